/**
 * Review finding 4: a standby's snapshot recovery must be crash-atomic. The new log and snapshot are built in
 * `*.recovering` directories and swapped in after a commit file; at start-up (HaNode.start) leftovers are finished or
 * rolled back. Each step of an install is stopped as a kill -9 would stop it (no cleanup), then the node's start-up
 * runs and a standby gateway must start on the data dir: the old log before the commit, the leader's snapshot after.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Gateway } from '../../../src/runtime/index.ts'
import {
  fetchLeaderSnapshot,
  finishSnapshotRecovery,
  installLeaderSnapshot,
  SnapshotInstallHalted,
  type LeaderSnapshot,
  type SnapshotInstallStep,
} from '../../../src/runtime/ha/snapshot-recovery.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { removeDir, tempDataDir } from '../harness.ts'
import { compactingLeader, recoveringStandbyOptions, tradeUntilCompacted } from './compacting-leader.ts'
import { TOKEN } from './support.ts'

afterEach(removeTempDirs)

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})


const BEFORE_COMMIT: SnapshotInstallStep[] = ['anchored', 'log_built', 'snapshot_built']
const AFTER_COMMIT: SnapshotInstallStep[] = ['committed', 'log_moved_aside', 'log_swapped', 'snapshots_moved_aside', 'snapshots_swapped']

describe('snapshot recovery across a crash', () => {
  test('stopped after any step, the next start-up finishes or rolls it back and a standby gateway starts', async () => {
    const { world, url } = await compactingLeader(61, cleanups)
    await tradeUntilCompacted(world, 1, 61)
    const access = { leaderUrl: url, token: TOKEN, timeoutMs: 5_000 }
    const snapshot: LeaderSnapshot = await fetchLeaderSnapshot({ ...access, bytesMax: 1 << 30 })
    for (const step of [...BEFORE_COMMIT, ...AFTER_COMMIT]) {
      const dataDir = tempDataDir()
      cleanups.push(() => removeDir(dataDir))
      const errors: string[] = []
      // The standby's own log (and a snapshots directory, so there is one to move aside).
      const old = await Gateway.start(recoveringStandbyOptions(world, dataDir, errors))
      await old.stop()
      mkdirSync(join(dataDir, 'snapshots'), { recursive: true })
      const oldLog = readdirSync(join(dataDir, 'log')).sort()
      let halted: unknown = null
      try {
        await installLeaderSnapshot(dataDir, snapshot, { ...access, envelopeBytesMax: 4 * 1024 * 1024, keep: 2, previousLastLsn: 0, haltAfter: (at) => at === step })
      } catch (error) {
        halted = error
      }
      expect(halted).toBeInstanceOf(SnapshotInstallHalted)
      expect((halted as SnapshotInstallHalted).step).toBe(step)
      // The node starts again.
      const committed = AFTER_COMMIT.includes(step)
      expect(finishSnapshotRecovery(dataDir)).toBe(committed ? 'finished' : 'rolled_back')
      expect(finishSnapshotRecovery(dataDir)).toBe('none')
      const entries = readdirSync(dataDir)
      expect(entries.filter((name) => name.includes('recovering') || name.includes('snapshot-recovery'))).toEqual([])
      const restarted = await Gateway.start(recoveringStandbyOptions(world, dataDir, errors))
      try {
        if (committed) {
          expect(restarted.restoreReport?.snapshot?.lsn).toBe(snapshot.lsn)
          expect(restarted.engine.wal.firstLsn).toBe(snapshot.lsn)
          expect(entries.filter((name) => name.startsWith('log.compacted-'))).toHaveLength(1)
          expect(entries.filter((name) => name.startsWith('snapshots.compacted-'))).toHaveLength(1)
        } else {
          expect(restarted.restoreReport?.snapshot ?? null).toBeNull()
          expect(restarted.engine.wal.firstLsn).toBe(1)
          expect(entries.filter((name) => name.includes('compacted'))).toEqual([])
        }
      } finally {
        await restarted.stop()
      }
      if (!committed) expect(readdirSync(join(dataDir, 'log')).sort()).toEqual(oldLog)
      // And a later recovery on the same data dir goes through.
      if (!committed) {
        const report = await installLeaderSnapshot(dataDir, snapshot, { ...access, envelopeBytesMax: 4 * 1024 * 1024, keep: 2, previousLastLsn: 0 })
        expect(report.lastLsn).toBeGreaterThanOrEqual(snapshot.lsn)
        expect(existsSync(report.movedTo)).toBe(true)
      }
      expect(errors).toEqual([])
    }
  })
})
