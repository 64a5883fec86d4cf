/**
 * A standby on a link slower than one envelope per `silenceMsMax` (a leader catching it up sends envelopes of up to
 * twice chunkBytesMax, 2 MiB) still catches up (src/runtime/ha/replicator.ts): bytes arriving steadily are progress.
 * Restarted by a whole envelope only (bcc7e2ae), the silence timer dropped such a stream mid-envelope, and the
 * standby, asking again from the same LSN, was sent the same envelope and dropped again, for good. A trickle of bytes
 * that never makes an envelope is still dropped (replicator-trickle-silence.test.ts).
 */

import { afterEach, expect, test } from 'bun:test'
import { Wal } from '../../../wal/index.ts'
import { removeTempDirs, tempDir } from '../../wal/support.ts'
import { slowLinkLeader } from './slow-link-leader.ts'
import { replicator, waitFor } from './support.ts'

const stops: (() => void)[] = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
  removeTempDirs()
})

test('an envelope taking longer than silenceMsMax to arrive, its bytes steady, is taken: the standby catches up', async () => {
  const { leaderLog, leader } = await slowLinkLeader(stops)
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
