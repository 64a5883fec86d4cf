/**
 * The epoch ceiling of a snapshot install's catch-up pull (snapshot-recovery.ts pullThrough, wired from the lease's
 * current epoch in resync.ts): frames above the lease's epoch are no lease holder's, and the install refuses them
 * (EPOCH_AHEAD, as the replicator does, epoch-ceiling.test.ts) — CATCH_UP_FAILED, rolled back, the live log untouched.
 * Appended, they would have become the standby's new log, and its takeover at the lease's next epoch would fail
 * LEASE_LOST (its log holding an epoch above the one taken), leaving the pair without a leader.
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { HaNode, SnapshotRecoveryError, fetchLeaderSnapshot, installLeaderSnapshot } from '../../../src/runtime/ha/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { removeDir, tempDataDir } from '../harness.ts'
import { compactingLeader, recoveringStandby, recoveringStandbyOptions, tradeUntilCompacted } from './compacting-leader.ts'
import { swapEntries, TOKEN, waitFor } from './support.ts'

afterEach(removeTempDirs)
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The epoch the leader's frames carry: above the lease epoch the standby knows (1 in recoveringStandby's lease). */
const LEADER_EPOCH = 3

test('an install whose catch-up pull brings frames above the epoch ceiling is refused (CATCH_UP_FAILED, EPOCH_AHEAD) and rolled back; at the frames\' epoch it installs', async () => {
  const { world, url } = await compactingLeader(161, cleanups, { epoch: LEADER_EPOCH })
  await tradeUntilCompacted(world, 1, 161)
  expect(world.gateway.engine.wal.lastEpoch).toBe(LEADER_EPOCH)
  const dataDir = tempDataDir()
  cleanups.push(() => removeDir(dataDir))
  const errors: string[] = []
  const old = await Gateway.start(recoveringStandbyOptions(world, dataDir, errors))
  await old.stop()
  const oldLog = readdirSync(join(dataDir, 'log')).sort()
  const access = { leaderUrl: url, token: TOKEN, timeoutMs: 5_000 }
  const snapshot = await fetchLeaderSnapshot({ ...access, bytesMax: 1 << 30 })
  const install = (ceiling: number) =>
    installLeaderSnapshot(dataDir, snapshot, { ...access, epochCeiling: () => ceiling, envelopeBytesMax: 4 * 1024 * 1024, keep: 2, previousLastLsn: 0 })

  const refused = await install(LEADER_EPOCH - 1).then(() => null, (error: unknown) => error)
  expect(refused).toBeInstanceOf(SnapshotRecoveryError)
  expect((refused as SnapshotRecoveryError).code).toBe('CATCH_UP_FAILED')
  expect((refused as SnapshotRecoveryError).message).toContain(`EPOCH_AHEAD`)
  expect((refused as SnapshotRecoveryError).message).toContain(`frame epoch ${LEADER_EPOCH} is above the lease's current epoch ${LEADER_EPOCH - 1}`)
  // Rolled back: nothing built or committed left, the live log as it was.
  expect({ entries: swapEntries(dataDir), log: readdirSync(join(dataDir, 'log')).sort(), lastLsn: openReadOnly(join(dataDir, 'log')).lastLsn }).toEqual({ entries: [], log: oldLog, lastLsn: 0 })

  // At the frames' own epoch (a lease that has reached it) the same install goes through.
  const report = await install(LEADER_EPOCH)
  expect(report.snapshotLsn).toBe(snapshot.lsn)
  expect(openReadOnly(join(dataDir, 'log')).firstLsn).toBe(snapshot.lsn)
  expect(existsSync(join(dataDir, 'log.recovering'))).toBe(false)
}, 60_000)

test("a standby's snapshot recovery pulls under the lease's current epoch: frames above it fail the recovery (CATCH_UP_FAILED), nothing installed", async () => {
  const { world, url } = await compactingLeader(162, cleanups, { epoch: LEADER_EPOCH })
  await tradeUntilCompacted(world, 1, 162)
  // The lease naming the leader is at epoch 1: no lease holder could have written the leader's epoch-3 frames.
  const { options, lease, logLines } = recoveringStandby(world, url, cleanups)
  expect(lease.epoch).toBe(1)
  const node = new HaNode(options)
  cleanups.push(() => node.stop())
  await node.start()
  await waitFor(() => node.lastSnapshotRecovery !== null, 15_000, `a snapshot recovery (${logLines.join(' | ')})`)
  const recovery = node.lastSnapshotRecovery
  expect({ state: recovery?.state, code: recovery?.state === 'failed' ? recovery.code : null }).toEqual({ state: 'failed', code: 'CATCH_UP_FAILED' })
  expect(recovery?.state === 'failed' ? recovery.error : '').toContain(`frame epoch ${LEADER_EPOCH} is above the lease's current epoch 1`)
  await node.stop()
  expect({ entries: swapEntries(options.dataDir), firstLsn: openReadOnly(join(options.dataDir, 'log')).firstLsn, lastLsn: openReadOnly(join(options.dataDir, 'log')).lastLsn }).toEqual({ entries: [], firstLsn: 1, lastLsn: 0 })
}, 60_000)
