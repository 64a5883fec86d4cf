/**
 * `egress sim-venue` exits non-zero when its record file fails (here its file size limit: a short write, then EFBIG),
 * as serve does when its log fails: it answered that place `unknown` and carried on. The place whose record failed is
 * answered `unknown` (the venue stopped), and the process says why and exits 74 (EXIT_IO_ERROR).
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseDecimal as d } from '../../src/domain/decimal.ts'
import { LineReader, decodeLine, encodeLine } from '../../src/venues/jsonl/index.ts'
import { startSimVenue } from './sim-venue-process.ts'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Runs the command with files limited to 1 KiB, SIGXFSZ ignored: a write past the limit fails (EFBIG) instead of killing it. */
const FILE_SIZE_LIMITED = ['sh', '-c', 'trap "" XFSZ; ulimit -f 1; exec "$@"', 'sh']

test('a record write that fails: the place is answered unknown and sim-venue exits 74, saying why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-sim-venue-record-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const { child, port } = await startSimVenue(['--record', join(dir, 'record.jsonl')], FILE_SIZE_LIMITED)
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  })
  const answers = new Map<number, { kind: string; reason?: string }>()
  const reader = new LineReader()
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_socket, bytes) {
        for (const line of reader.push(bytes)) {
          const message = decodeLine(line) as { id?: number; result?: { kind: string; reason?: string } }
          if (typeof message.id === 'number' && message.result !== undefined) answers.set(message.id, message.result)
        }
      },
    },
  })
  cleanups.push(() => {
    socket.end()
  })
  let failedAt: number | null = null
  // About 130 bytes a line: the 1 KiB limit is reached within a dozen places.
  for (let id = 1; id <= 30 && failedAt === null; id++) {
    const args = { clientOrderId: `r${id}`, account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: d('0.001'), price: d('20000'), tif: 'GTC', postOnly: false, reduceOnly: false }
    socket.write(encodeLine({ id, op: 'place', args }))
    for (let waited = 0; waited < 300 && !answers.has(id); waited++) await Bun.sleep(10)
    const answer = answers.get(id)
    if (answer === undefined) throw new Error(`place ${id} not answered`)
    if (answer.kind !== 'ok') failedAt = id
  }
  expect(failedAt).not.toBeNull()
  expect(answers.get(failedAt as number)).toEqual({ kind: 'unknown', reason: 'jsonl_venue_failed: the venue stopped: its record file failed' })
  expect(await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running after 10 s')])).toBe(74)
  expect(await new Response(child.stderr).text()).toContain('sim-venue: the record file failed: ')
}, 30_000)
