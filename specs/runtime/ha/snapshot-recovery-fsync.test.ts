/**
 * A failed fsync while a standby installs the leader's snapshot is fatal (durable-fs.ts, DESIGN §3), as it is while a
 * diverged log is set aside. The install used node:fs directly, so no spec could make one fail, and a failure was
 * taken for an ordinary one: the build dropped, and the whole install tried again after a backoff — syncing anew
 * files whose dirty pages the kernel may already have thrown away. Now every call of the install goes through the
 * node's io (HaNodeOptions.dataDirIo), a failed fsync (a file's, the new log's fdatasync, a directory's) stops the node
 * for good (role `failed`, FSYNC_FAILED in /health, `died` resolves) with the data dir left as it is, and a restart
 * rolls the install back (not committed) or finishes it (committed) and follows the leader. A failed rename is not an
 * fsync: it is retried, from a consistent state — rolled back before the commit, finished after it.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { nodeIo, toHex, type WalIo } from '../../../wal/index.ts'
import type { Gateway } from '../../../src/runtime/index.ts'
import { SyncFailedError } from '../../../src/runtime/ha/durable-fs.ts'
import { HaNode, type HaNodeOptions } from '../../../src/runtime/ha/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import type { World } from '../harness.ts'
import { haStatusDepartures } from '../../http/openapi-departures.ts'
import { compactingLeader, recoveringStandby, RECOVERING_BACKOFF_MS_MAX, tradeUntilCompacted, type RecoveringStandby } from './compacting-leader.ts'
import { waitFor } from './support.ts'

afterEach(removeTempDirs)

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const BACKOFF_MS_MAX = RECOVERING_BACKOFF_MS_MAX

type SyncCall = 'fsync' | 'fdatasync' | 'fsyncDirectory'

/**
 * node:fs, except that the first fsync or fdatasync (each on the loop or off it) or directory fsync that `matches` fails with
 * EIO (`path`: the directory's, or the file the descriptor was opened on). Counts the installs begun (the anchored
 * segment's temp file created in `log.recovering/`).
 */
function failingSyncOnce(matches: (call: SyncCall, path: string) => boolean): { io: WalIo; failed: () => number; installs: () => number } {
  const paths = new Map<number, string>()
  let failed = 0
  let installs = 0
  const eio = (call: SyncCall, path: string): Error | null => {
    if (failed > 0 || !matches(call, path)) return null
    failed++
    return Object.assign(new Error(`EIO: injected ${call} failure`), { code: 'EIO' })
  }
  const throwIfInjected = (call: SyncCall, path: string): void => {
    const error = eio(call, path)
    if (error !== null) throw error
  }
  const io: WalIo = {
    ...nodeIo,
    openAppend: (path) => {
      if (basename(dirname(path)) === 'log.recovering' && path.endsWith('.tmp')) installs++
      const fd = nodeIo.openAppend(path)
      paths.set(fd, path)
      return fd
    },
    openRead: (path) => {
      const fd = nodeIo.openRead(path)
      paths.set(fd, path)
      return fd
    },
    close: (fd) => {
      paths.delete(fd)
      nodeIo.close(fd)
    },
    fsync: (fd) => {
      throwIfInjected('fsync', paths.get(fd) ?? '')
      nodeIo.fsync(fd)
    },
    fsyncOffLoop: (fd, done) => {
      const error = eio('fsync', paths.get(fd) ?? '')
      if (error !== null) setImmediate(() => done(error))
      else nodeIo.fsyncOffLoop(fd, done)
    },
    fdatasync: (fd) => {
      throwIfInjected('fdatasync', paths.get(fd) ?? '')
      nodeIo.fdatasync(fd)
    },
    fdatasyncOffLoop: (fd, done) => {
      const error = eio('fdatasync', paths.get(fd) ?? '')
      if (error !== null) setImmediate(() => done(error))
      else nodeIo.fdatasyncOffLoop(fd, done)
    },
    fsyncDirectory: (path) => {
      throwIfInjected('fsyncDirectory', path)
      nodeIo.fsyncDirectory(path)
    },
  }
  return { io, failed: () => failed, installs: () => installs }
}

/** An empty standby (in process) following `url` (see recoveringStandby); its data dir's calls through `io`. */
function standbyOf(world: World, url: string, io: WalIo | undefined): RecoveringStandby {
  return recoveringStandby(world, url, cleanups, io === undefined ? {} : { io })
}

interface FailureCase {
  name: string
  matches: (dataDir: string) => (call: SyncCall, path: string) => boolean
  /** Whether the install was committed when the fsync failed: then a restart finishes it instead of rolling back. */
  committed: boolean
}

const inBuiltLog = (path: string): boolean => basename(dirname(path)) === 'log.recovering'

const CASES: FailureCase[] = [
  { name: "the anchored segment's fsync", matches: () => (call, path) => call === 'fsync' && inBuiltLog(path), committed: false },
  { name: "the new log's fdatasync while it pulls the leader's frames", matches: () => (call, path) => call === 'fdatasync' && inBuiltLog(path), committed: false },
  { name: 'the fsync of snapshots.recovering/', matches: () => (call, path) => call === 'fsyncDirectory' && basename(path) === 'snapshots.recovering', committed: false },
  {
    name: 'the data dir fsync after the old log went aside',
    matches: (dataDir) => (call, path) => call === 'fsyncDirectory' && path === dataDir && readdirSync(dataDir).some((name) => name.startsWith('log.compacted-')),
    committed: true,
  },
]

describe('a failed fsync while a standby installs the leader\'s snapshot', () => {
  for (const { name, matches, committed } of CASES) {
    test(`${name}: FSYNC_FAILED, the node stops and tries nothing again; a restart ${committed ? 'finishes' : 'rolls back'} the install and follows`, async () => {
      const { world, url } = await compactingLeader(71, cleanups)
      await tradeUntilCompacted(world, 1, 71)
      expect(world.gateway.engine.wal.firstLsn).toBeGreaterThan(1)
      const placeholder = standbyOf(world, url, undefined)
      const injected = failingSyncOnce(matches(placeholder.options.dataDir))
      const failing = { ...placeholder, options: { ...placeholder.options, dataDirIo: injected.io } }
      const node = new HaNode(failing.options)
      cleanups.push(() => node.stop())
      await node.start()
      const died = await Promise.race([node.died, Bun.sleep(15_000).then(() => null)])
      if (died === null) throw new Error(`the node did not stop: ${JSON.stringify(node.lastSnapshotRecovery)}\n${failing.logLines.join('\n')}`)
      expect(died).toBeInstanceOf(SyncFailedError)
      expect((died as SyncFailedError).code).toBe('FSYNC_FAILED')
      expect(injected.failed()).toBe(1)
      expect(node.role).toBe('failed')
      expect(node.gateway).toBeNull()
      const health = node.status()
      expect(health.failure).toMatch(/^FSYNC_FAILED: fsync of .* failed in a data dir swap \(EIO: injected \w+ failure\)/)
      expect(health.replicating).toBe(false)
      expect(health.last_snapshot_recovery).toMatchObject({ state: 'failed', code: 'FSYNC_FAILED' })
      expect(haStatusDepartures(health)).toEqual([])
      // Not tried again: a few backoffs later, still one install begun, one recovery announced, nothing restarted.
      await Bun.sleep(5 * BACKOFF_MS_MAX)
      expect(injected.installs()).toBe(1)
      expect(failing.logLines.filter((line) => line.includes('recovering from its snapshot'))).toHaveLength(1)
      expect(failing.logLines.some((line) => line.includes('retrying'))).toBe(false)
      expect(node.role).toBe('failed')
      expect(node.gateway).toBeNull()
      // Nothing cleaned up either: the data dir is as the failed fsync left it.
      const dataDir = failing.options.dataDir
      expect(existsSync(join(dataDir, 'log.recovering'))).toBe(true)
      expect(existsSync(join(dataDir, 'snapshot-recovery.commit'))).toBe(committed)
      expect(existsSync(join(dataDir, 'log'))).toBe(!committed)
      await node.stop()

      // The process restarts (node:fs this time): the install is rolled back or finished from what is on disk.
      const restarted = standbyOfSameDataDir(failing.options)
      cleanups.push(() => restarted.node.stop())
      await restarted.node.start()
      expect(restarted.logLines[0]).toBe(`interrupted snapshot recovery ${committed ? 'finished' : 'rolled back'} at start-up`)
      await waitFor(
        () => restarted.node.gateway?.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn,
        10_000,
        `the restarted standby caught up (${JSON.stringify(restarted.node.lastSnapshotRecovery)})`,
      )
      const standby = restarted.node.gateway as Gateway
      // Not committed: it recovered from the snapshot again. Committed: it starts from the snapshot installed.
      if (!committed) expect(restarted.node.lastSnapshotRecovery?.state).toBe('recovered')
      expect(standby.engine.wal.firstLsn).toBeGreaterThan(1)
      expect(standby.restoreReport?.snapshot?.lsn).toBe(standby.engine.wal.firstLsn)
      expect(toHex(standby.engine.wal.chainHead)).toBe(toHex(world.gateway.engine.wal.chainHead))
      const entries = readdirSync(dataDir)
      expect(entries.filter((entry) => entry.includes('recovering') || entry.startsWith('snapshot-recovery.commit'))).toEqual([])
      expect(entries.filter((entry) => entry.startsWith('log.compacted-'))).toHaveLength(1)
      expect(failing.errors).toEqual([])
    }, 30_000)
  }
})

function standbyOfSameDataDir(options: HaNodeOptions): { node: HaNode; logLines: string[] } {
  const logLines: string[] = []
  const { dataDirIo: _failing, ...rest } = options
  return { node: new HaNode({ ...rest, log: (line) => void logLines.push(line) }), logLines }
}

describe('a failed rename while a standby installs the leader\'s snapshot (not an fsync: retried)', () => {
  /** node:fs, except that the first rename onto a path `matches` accepts fails with EIO (and is not done). */
  function failingRenameOnce(matches: (to: string) => boolean): { io: WalIo; failed: () => number } {
    let failed = 0
    const io: WalIo = {
      ...nodeIo,
      rename: (from, to) => {
        if (failed === 0 && matches(to)) {
          failed++
          throw Object.assign(new Error('EIO: injected rename failure'), { code: 'EIO' })
        }
        nodeIo.rename(from, to)
      },
    }
    return { io, failed: () => failed }
  }

  const RENAMES = [
    { name: "the anchored segment's rename, before the commit: the build is rolled back and the install tried again", matches: (_dataDir: string) => (to: string) => inBuiltLog(to), committed: false },
    { name: 'renaming log.recovering into place, after the commit: the next gateway start finishes the swap', matches: (dataDir: string) => (to: string) => to === join(dataDir, 'log'), committed: true },
  ]

  test('a node stopped while it waits to retry starts no gateway after its stop (it would outlive the process\'s shutdown)', async () => {
    const { world, url } = await compactingLeader(74, cleanups)
    await tradeUntilCompacted(world, 1, 74)
    const placeholder = standbyOf(world, url, undefined)
    const dataDir = placeholder.options.dataDir
    // Fails after the commit, with the gateway already stopped: the retry would start one when the backoff ends.
    const injected = failingRenameOnce((to) => to === join(dataDir, 'log'))
    let starts = 0
    const node = new HaNode({
      ...placeholder.options,
      dataDirIo: injected.io,
      startGateway: async (role, lease, beforeBootstrap) => {
        starts++
        return placeholder.options.startGateway(role, lease, beforeBootstrap)
      },
    })
    cleanups.push(() => node.stop())
    await node.start()
    await waitFor(() => placeholder.logLines.some((line) => line.startsWith('snapshot recovery failed: ')), 10_000, 'the failed install')
    await node.stop()
    const startsAtStop = starts
    await Bun.sleep(3 * BACKOFF_MS_MAX)
    expect(injected.failed()).toBe(1)
    expect({ starts, gateway: node.gateway, role: node.role }).toEqual({ starts: startsAtStop, gateway: null, role: 'stopped' })
  }, 30_000)

  for (const { name, matches, committed } of RENAMES) {
    test(name, async () => {
      const { world, url } = await compactingLeader(73, cleanups)
      await tradeUntilCompacted(world, 1, 73)
      const placeholder = standbyOf(world, url, undefined)
      const dataDir = placeholder.options.dataDir
      const injected = failingRenameOnce(matches(dataDir))
      const standby = { ...placeholder, options: { ...placeholder.options, dataDirIo: injected.io } }
      const node = new HaNode(standby.options)
      cleanups.push(() => node.stop())
      await node.start()
      await waitFor(() => node.gateway?.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn && node.gateway.engine.wal.firstLsn > 1, 10_000, 'the standby recovered and caught up')
      expect(injected.failed()).toBe(1)
      expect(node.role).toBe('standby')
      expect(node.failure).toBeNull()
      const failedFirst = standby.logLines.find((line) => line.startsWith('snapshot recovery failed: '))
      expect(failedFirst).toMatch(/^snapshot recovery failed: SNAPSHOT_RECOVERY_FAILED: EIO: injected rename failure; retrying$/)
      if (committed) {
        // Finished before the follow after the failure: no second install, the first one's snapshot is the one
        // restored, and /health says it recovered (where the old log went included), not that it failed.
        expect(standby.logLines.filter((line) => line.includes('recovering from its snapshot'))).toHaveLength(1)
        const recovery = node.lastSnapshotRecovery
        if (recovery?.state !== 'recovered') throw new Error(`recovery: ${JSON.stringify(recovery)}`)
        expect(recovery.snapshotLsn).toBe((node.gateway as Gateway).engine.wal.firstLsn)
        expect(existsSync(recovery.movedTo)).toBe(true)
        expect(basename(recovery.movedTo)).toMatch(/^log\.compacted-/)
      } else {
        // Rolled back at once (the live log never touched), then a second install from scratch went through.
        expect(standby.logLines.filter((line) => line.includes('recovering from its snapshot'))).toHaveLength(2)
        expect(node.lastSnapshotRecovery?.state).toBe('recovered')
      }
      const gateway = node.gateway as Gateway
      expect(gateway.restoreReport?.snapshot?.lsn).toBe(gateway.engine.wal.firstLsn)
      expect(toHex(gateway.engine.wal.chainHead)).toBe(toHex(world.gateway.engine.wal.chainHead))
      const entries = readdirSync(dataDir)
      expect(entries.filter((entry) => entry.includes('recovering') || entry.startsWith('snapshot-recovery.commit'))).toEqual([])
      expect(entries.filter((entry) => entry.startsWith('log.compacted-'))).toHaveLength(1)
      expect(standby.errors).toEqual([])
    }, 30_000)
  }
})
