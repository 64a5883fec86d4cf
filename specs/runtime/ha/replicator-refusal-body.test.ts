/**
 * A standby's replicator reads only the start of a refused stream's body (src/runtime/ha/answer-text.ts): a leader
 * URL answering an error with a body of any length (a proxy, a wrong port, a broken leader) must not be held in
 * memory until the stream's silence timeout. A 409 whose body is not the leader's JSON is an error it logs, not a
 * crash.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { Wal } from '../../../wal/index.ts'
import { removeTempDirs, tempDir } from '../../wal/support.ts'
import { replicator, waitFor } from './support.ts'

const stops: (() => void)[] = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
  removeTempDirs()
})

/** A server answering every request `status` with a body that never ends (64 KiB chunks of 'A'). */
function endlessServer(status: number): { url: string } {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(new Uint8Array(64 * 1024).fill(0x41))
          },
        }),
        { status },
      ),
  })
  stops.push(() => void server.stop(true))
  return { url: `http://127.0.0.1:${server.port}` }
}

describe('replicator: a refused stream with an endless body', () => {
  for (const status of [500, 409]) {
    test(`answered ${status}: it logs the start of the body at once and retries, not reading on until the silence timeout`, async () => {
      const { url } = endlessServer(status)
      const wal = Wal.openReplica(tempDir('replicator-refusal'), { durability: 'none' })
      const lines: string[] = []
      // A long silence timeout: without the bound the replicator read the body until it, 30 s here.
      const standby = replicator(wal, () => url, { silenceMsMax: 30_000, backoffMsMin: 50, backoffMsMax: 50, log: (line) => lines.push(line) })
      standby.start()
      stops.push(() => void standby.stop())
      await waitFor(() => lines.length >= 2, 3_000, 'two refusals logged')
      expect(lines[0]).toContain(status === 500 ? 'answered 500: AAAA' : '409')
      await standby.stop()
      wal.close()
    })
  }
})
