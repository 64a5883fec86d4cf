/**
 * A standby that joins a leader whose log is already compacted, on real processes (recovery-drill.ts): it recovers
 * from the leader's snapshot over the replication routes and follows, instead of retrying forever.
 */

import { describe, expect, test } from 'bun:test'
import { runRecoveryCheck } from './recovery-drill.ts'

describe('a standby joining a compacted leader (real processes)', () => {
  test('starts from the leader\'s snapshot: recovered, replicating with no lag, its log anchored at the snapshot LSN', async () => {
    const lines: string[] = []
    const result = await runRecoveryCheck({ keep: false, log: (line) => void lines.push(line) })
    if (!result.ok) throw new Error(`${JSON.stringify(result)}\n${lines.join('\n')}`)
    expect(result.leaderFirstLsn).toBeGreaterThan(1)
    expect(result.snapshotLsn).toBeGreaterThanOrEqual(result.leaderFirstLsn)
    expect(result.standbyFirstLsn).toBe(result.snapshotLsn as number)
    expect(result.standbyLastLsn).toBeGreaterThanOrEqual(result.standbyFirstLsn)
    expect(result.ordersAccepted).toBeGreaterThan(0)
  }, 120_000)
})
