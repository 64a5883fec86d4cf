/**
 * A send the log refused leaves its venue×symbol queue however its error report ends. SendDispatch.reject reports the
 * refusal through onError and then tells the executor the dispatch is decided (failed): an onError that threw used to
 * skip that, so the refused dispatch stayed at the head of its queue, its order marked busy and its call counted in
 * flight, until some later send on the same venue×symbol moved the queue: an order alone on its instrument was never
 * sent, and each such refusal held one of callsInFlightMax's slots meanwhile. Run in a child process (send-refused-report-child.ts): the report's throw escapes, and
 * `bun test` fails any test during which that happens.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'

test('an onError that throws on a refused send still frees its order, which is sent once the retry is due', async () => {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, 'send-refused-report-child.ts')], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' })
  const seen = JSON.parse(stdout.trim().split('\n').at(-1) as string) as unknown
  expect(seen).toEqual({ refused: 1, reported: 1, acked: 1, callsInFlight: 0, escaped: ['Error: report failed: Error: log refused the send'] })
}, 30_000)
