/**
 * A standby on a link slower than one envelope per `silenceMsMax` (a leader catching it up sends envelopes of up to
 * twice chunkBytesMax, 2 MiB) still catches up (src/runtime/ha/replicator.ts): bytes arriving steadily are progress.
 * Restarted by a whole envelope only (bcc7e2ae), the silence timer dropped such a stream mid-envelope, and the
 * standby, asking again from the same LSN, was sent the same envelope and dropped again, for good. A trickle of bytes
 * that never makes an envelope is still dropped (replicator-trickle-silence.test.ts).
 */

import { afterEach, expect, test } from 'bun:test'
import { Wal } from '../../../wal/index.ts'
import { replicationStream } from '../../../src/runtime/ha/stream.ts'
import { record, removeTempDirs, tempDir } from '../../wal/support.ts'
import { slowLeader } from './slow-link-leader.ts'
import { replicator, waitFor } from './support.ts'

const stops: (() => void)[] = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
  removeTempDirs()
})

test('an envelope taking longer than silenceMsMax to arrive, its bytes steady, is taken: the standby catches up', async () => {
  const leaderLog = Wal.open(tempDir('slow-link-leader'), { durability: 'none' })
  for (let batch = 0; batch < 250; batch++) await leaderLog.append([record(`record-${batch}-${'x'.repeat(2_000)}`)])
  const abort = new AbortController()
  const first = await replicationStream(leaderLog, { fromLsn: 1, chunkBytesMax: 1024 * 1024, heartbeatMs: 10_000, signal: abort.signal }).next()
  abort.abort()
  const envelope = first.value as Uint8Array
  // About 500 KiB: 31 pieces, some 620 ms on this link, over the standby's 300 ms (64 KiB every 80 ms: 220 ms of margin).
  expect(envelope.byteLength).toBeGreaterThan(450 * 1024)
  const leader = slowLeader(envelope, leaderLog.lastLsn, stops)
  const wal = Wal.openReplica(tempDir('slow-link-standby'), { durability: 'none' })
  const lines: string[] = []
  const standby = replicator(wal, () => leader.url, { silenceMsMax: 300, backoffMsMin: 10, backoffMsMax: 10, log: (line) => void lines.push(line) })
  standby.start()
  stops.push(() => void standby.stop())
  await waitFor(() => wal.lastLsn === leaderLog.lastLsn || leader.streams() >= 4, 5_000, 'caught up or re-asked')
  expect({ lastLsn: wal.lastLsn, streams: leader.streams(), lines }).toEqual({ lastLsn: leaderLog.lastLsn, streams: 1, lines: [] })
  await standby.stop()
  await wal.close()
  await leaderLog.close()
})
