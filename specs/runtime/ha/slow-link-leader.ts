/** A fake leader on a slow link, for the specs of the silence timers (replicator.ts, pull-frames.ts). */

import { expect } from 'bun:test'
import { Wal } from '../../../wal/index.ts'
import { encodeEnvelope } from '../../../src/runtime/ha/index.ts'
import { replicationStream } from '../../../src/runtime/ha/stream.ts'
import { record, tempDir } from '../../wal/support.ts'

/**
 * A leader's log of one envelope of about 500 KiB, served by slowLeader: 31 pieces, some 620 ms on its link, over a
 * silence bound of 300 ms (64 KiB every 80 ms: 220 ms of margin). The caller closes the log.
 */
export async function slowLinkLeader(stops: (() => void)[]): Promise<{ leaderLog: Wal; leader: { url: string; streams: () => number } }> {
  const leaderLog = Wal.open(tempDir('slow-link-leader'), { durability: 'none' })
  for (let batch = 0; batch < 250; batch++) await leaderLog.append([record(`record-${batch}-${'x'.repeat(2_000)}`)])
  const abort = new AbortController()
  const first = await replicationStream(leaderLog, { fromLsn: 1, chunkBytesMax: 1024 * 1024, heartbeatMs: 10_000, signal: abort.signal }).next()
  abort.abort()
  const envelope = first.value as Uint8Array
  expect(envelope.byteLength).toBeGreaterThan(450 * 1024)
  return { leaderLog, leader: slowLeader(envelope, leaderLog.lastLsn, stops) }
}

/** A leader on a slow link: its one envelope (`envelope`) goes out 16 KiB every 20 ms, then a heartbeat every 20 ms. */
export function slowLeader(envelope: Uint8Array, lastLsn: number, stops: (() => void)[]): { url: string; streams: () => number } {
  let streams = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      if (new URL(request.url).pathname !== '/replication/stream') return new Response(null, { status: 204 })
      streams++
      const fromLsn = Number(new URL(request.url).searchParams.get('from_lsn'))
      let timer: ReturnType<typeof setInterval> | null = null
      const end = (): void => {
        if (timer !== null) clearInterval(timer)
        timer = null
      }
      request.signal.addEventListener('abort', end, { once: true })
      let offset = fromLsn === 1 ? 0 : envelope.byteLength
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          timer = setInterval(() => {
            try {
              if (offset < envelope.byteLength) {
                controller.enqueue(envelope.subarray(offset, offset + 16 * 1024))
                offset += 16 * 1024
              } else controller.enqueue(encodeEnvelope(new Uint8Array(0), lastLsn))
            } catch {
              end()
            }
          }, 20)
        },
        cancel: end,
      })
      return new Response(body, { status: 200, headers: { 'Content-Type': 'application/vnd.egress.wal-frames' } })
    },
  })
  stops.push(() => void server.stop(true))
  return { url: `http://127.0.0.1:${server.port}`, streams: () => streams }
}
