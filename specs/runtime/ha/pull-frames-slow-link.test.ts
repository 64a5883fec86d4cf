/**
 * `egress backup`'s pull (src/runtime/ha/pull-frames.ts, timeout 'silence') on a link slower than one envelope per
 * --timeout-ms: bytes arriving steadily are progress (SILENCE_PROGRESS_BYTES), as for a standby's replicator
 * (replicator-slow-link.test.ts). Restarted by whole envelopes alone, the timer ended such a pull mid-envelope, and
 * every try of the backup likewise. A trickle that never makes an envelope still ends it (backup-trickle-silence).
 */

import { afterEach, expect, test } from 'bun:test'
import { Wal } from '../../../wal/index.ts'
import { pullFrames } from '../../../src/runtime/ha/pull-frames.ts'
import { removeTempDirs, tempDir } from '../../wal/support.ts'
import { slowLinkLeader } from './slow-link-leader.ts'
import { TOKEN } from './support.ts'

const stops: (() => void)[] = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
  removeTempDirs()
})

test('an envelope taking longer than the silence bound to arrive, its bytes steady, is pulled whole', async () => {
  const { leaderLog, leader } = await slowLinkLeader(stops)
  const wal = Wal.openReplica(tempDir('pull-slow-copy'), { durability: 'none' })
  try {
    const pulled = await pullFrames(wal, { leaderUrl: leader.url, token: TOKEN, timeoutMs: 300, envelopeBytesMax: 4 * 1024 * 1024 }, { throughLsn: leaderLog.lastLsn, exact: false, timeout: 'silence' }).then(
      (lastLsn) => ({ lastLsn }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    )
    expect(pulled).toEqual({ lastLsn: leaderLog.lastLsn })
  } finally {
    await wal.close()
    await leaderLog.close()
  }
})
