/**
 * A send's dispatch frees its call budget however its error report ends (s44 review). The dispatch reports an error of
 * its call (here: the venue's answer the log refused to record) through onError; an onError that throws must not leave
 * the call counted in flight for good — each such leak took one of callsInFlightMax's slots until a restart, and with
 * all of them gone no Lane 1–3 send would start again. The old .catch(report).finally(free) chain freed it whatever
 * the report did, and let the report's throw escape as an unhandled rejection; the dispatch written as one async
 * function does both too. Run in a child process (dispatch-error-report-child.ts): `bun test` fails any test during
 * which a rejection goes unhandled.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'

test('an onError that throws on a send error still frees the call budget, and its throw still escapes', async () => {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, 'dispatch-error-report-child.ts')], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' })
  const seen = JSON.parse(stdout.trim().split('\n').at(-1) as string) as unknown
  expect(seen).toEqual({ accepted: true, reported: 1, callsInFlight: 0, escaped: ['Error: report failed: Error: log refused the answer'] })
}, 30_000)
