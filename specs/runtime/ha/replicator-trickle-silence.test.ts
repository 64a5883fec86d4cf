/**
 * A standby's silence timer (`silenceMsMax`, src/runtime/ha/replicator.ts) is restarted by a whole envelope only (a
 * heartbeat at least), not by any bytes: a leader that trickles an envelope a byte at a time, or bytes that never
 * make one, held the standby on its stream for as long as it trickled, its leader never noticed as broken. Now the
 * stream is dropped after `silenceMsMax` without a whole envelope and re-opened, as for a silent leader.
 */

import { afterEach, expect, test } from 'bun:test'
import { Wal } from '../../../wal/index.ts'
import { removeTempDirs, tempDir } from '../../wal/support.ts'
import { replicator, waitFor } from './support.ts'
import { tricklingStream } from './trickling-stream.ts'

const stops: (() => void)[] = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
  removeTempDirs()
})

/** A fake leader whose every stream trickles (trickling-stream.ts). Counts the streams opened. */
function tricklingLeader(): { url: string; streams: () => number } {
  let streams = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      // The standby acknowledges the heartbeat: taken, not counted.
      if (new URL(request.url).pathname !== '/replication/stream') return new Response(null, { status: 204 })
      streams++
      return tricklingStream(request.signal)
    },
  })
  stops.push(() => void server.stop(true))
  return { url: `http://127.0.0.1:${server.port}`, streams: () => streams }
}

test('a leader trickling bytes that never make an envelope is dropped after silenceMsMax and the stream re-opened', async () => {
  const leader = tricklingLeader()
  const wal = Wal.openReplica(tempDir('replicator-trickle'), { durability: 'none' })
  const lines: string[] = []
  const standby = replicator(wal, () => leader.url, { silenceMsMax: 300, backoffMsMin: 10, backoffMsMax: 10, log: (line) => void lines.push(line) })
  standby.start()
  stops.push(() => void standby.stop())
  // Its heartbeat was taken: the standby was in contact, then heard only bytes for longer than silenceMsMax.
  await waitFor(() => leader.streams() >= 2, 3_000, 'the trickling stream dropped and re-opened')
  expect(lines[0]).toBe(`replication: no envelope from ${leader.url} for 300 ms`)
  expect(wal.lastLsn).toBe(0)
  await standby.stop()
  await wal.close()
})
