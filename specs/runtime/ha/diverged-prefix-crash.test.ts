/**
 * Keeping a diverged log's shared prefix is all or nothing across a crash: stopped after any step (as kill -9 would)
 * and finished at the next start, the data dir holds either the old log untouched or the kept prefix with the old log
 * set aside whole — never a half-built `log`, never a lost record. A node restarted after such a crash follows on.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { cpSync, existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Wal, nodeIo, openReadOnly, toHex, type WalIo } from '../../../wal/index.ts'
import { chainHeadAt, SnapshotStore, type SnapshotHeader } from '../../../src/runtime/snapshot/index.ts'
import { DivergedPrefixError, PrefixKeepingHalted, finishKeepingPrefix, keepCommonPrefix, type PrefixStep } from '../../../src/runtime/ha/diverged-prefix.ts'
import { setDivergedTailAside } from '../../../src/runtime/ha/divergence.ts'
import { SyncFailedError } from '../../../src/runtime/ha/durable-fs.ts'
import { removeTempDirs, record, tempDir } from '../../wal/support.ts'
import { haStatusDepartures } from '../../http/openapi-departures.ts'
import { caughtUp, forkedPair, rejoiningNode, streamsFrom, type ForkedPair, type RejoiningNode } from './forked-pair.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  removeTempDirs()
})

const WAL = { segmentBytesMax: 4096, durability: 'none', preallocateBytes: 0 } as const
const LAST_LSN = 200
const COMMON_LSN = 130
const SNAPSHOT_LSNS = [100, 180]
const BEFORE_COMMIT: PrefixStep[] = ['log_built', 'snapshots_built']
const AFTER_COMMIT: PrefixStep[] = ['committed', 'log_moved_aside', 'log_swapped', 'snapshots_moved_aside', 'snapshots_swapped']

/**
 * A stopped data dir: a log of LAST_LSN records over many segments and snapshot files at SNAPSHOT_LSNS. The snapshots'
 * contents are not read here (only names and the manifest), so placeholder bytes do.
 */
async function dataDir(): Promise<{ dir: string; hashes: string[] }> {
  const dir = tempDir()
  const wal = Wal.open(join(dir, 'log'), WAL)
  for (let lsn = 1; lsn <= LAST_LSN; lsn += 10) await wal.append(Array.from({ length: 10 }, (_, index) => record(`record ${lsn + index}`)))
  const hashes = Array.from(wal.read(1), (frame) => toHex(frame.hash))
  await wal.close()
  const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 3 })
  for (const lsn of SNAPSHOT_LSNS) {
    const header = { lsn, createdAtMs: lsn, chainHead: hashes[lsn - 1] } as unknown as SnapshotHeader
    store.write({ bytes: new TextEncoder().encode(`placeholder snapshot at ${lsn}`), digest: `digest-${lsn}`, header })
  }
  return { dir, hashes }
}

function snapshotLsns(dir: string): number[] {
  return new SnapshotStore(dir, { io: nodeIo, keep: 3 }).candidates().map((candidate) => candidate.lsn)
}

describe('keeping a diverged prefix, stopped after every step', () => {
  test('finishes at the next start as all (prefix kept, old log aside whole) or nothing (old log as it was)', async () => {
    const prepared = await dataDir()
    for (const step of [...BEFORE_COMMIT, ...AFTER_COMMIT]) {
      const dir = tempDir()
      cpSync(prepared.dir, dir, { recursive: true })
      expect(() => keepCommonPrefix(dir, COMMON_LSN, { haltAfter: (at) => at === step })).toThrow(PrefixKeepingHalted)
      const committed = AFTER_COMMIT.includes(step)
      expect({ step, outcome: finishKeepingPrefix(dir) }).toEqual({ step, outcome: committed ? 'finished' : 'rolled_back' })
      expect(finishKeepingPrefix(dir)).toBe('none')
      // `log` opens with a normal writable open, every frame checked: the old log, or the prefix up to COMMON_LSN.
      const wal = Wal.open(join(dir, 'log'), WAL)
      const lastLsn = committed ? COMMON_LSN : LAST_LSN
      expect({ step, lastLsn: wal.lastLsn, head: toHex(wal.chainHead) }).toEqual({ step, lastLsn, head: prepared.hashes[lastLsn - 1] as string })
      await wal.close()
      const asides = readdirSync(dir).filter((name) => name.startsWith('log.diverged-'))
      expect({ step, asides: asides.length }).toEqual({ step, asides: committed ? 1 : 0 })
      for (const aside of asides) {
        const evidence = openReadOnly(join(dir, aside))
        expect([evidence.lastLsn, toHex(evidence.chainHead)]).toEqual([LAST_LSN, prepared.hashes[LAST_LSN - 1] as string])
        expect(snapshotLsns(join(dir, aside.replace(/^log\./, 'snapshots.')))).toEqual([...SNAPSHOT_LSNS].reverse())
      }
      expect({ step, snapshots: snapshotLsns(join(dir, 'snapshots')) }).toEqual({ step, snapshots: committed ? [100] : [180, 100] })
      for (const leftover of ['log.prefix', 'snapshots.prefix', 'diverged-prefix.commit', 'diverged-prefix.commit.tmp']) expect(existsSync(join(dir, leftover))).toBe(false)
    }
  })
})

describe('a prefix that cannot be kept', () => {
  function refusal(dir: string, commonLsn: number): string {
    try {
      keepCommonPrefix(dir, commonLsn)
    } catch (error) {
      if (error instanceof DivergedPrefixError) return error.code
      throw error
    }
    return 'kept'
  }

  function untouched(dir: string, lastLsn: number): void {
    expect(openReadOnly(join(dir, 'log')).lastLsn).toBe(lastLsn)
    expect(snapshotLsns(join(dir, 'snapshots'))).toEqual([...SNAPSHOT_LSNS].reverse())
    expect(readdirSync(dir).sort()).toEqual(['log', 'snapshots'])
  }

  test('nothing shared (LSN 0): refused, nothing changed; the divergence falls back to setting the whole log aside', async () => {
    const { dir } = await dataDir()
    expect(refusal(dir, 0)).toBe('NO_COMMON_PREFIX')
    untouched(dir, LAST_LSN)
    const report = setDivergedTailAside(dir, 0, { count: 1, lastLsn: 1, epochs: [1], epochCount: 1, examples: [{ lsn: 1, epoch: 1 }] })
    expect(report).toMatchObject({ outcome: 'log_set_aside', keptPrefixToLsn: null, commonLsn: 0 })
    expect(report.fallback).toMatch(/^NO_COMMON_PREFIX: /)
    expect(openReadOnly(report.movedTo).lastLsn).toBe(LAST_LSN)
    expect(existsSync(join(dir, 'log'))).toBe(false)
  })

  test('a compacted log whose kept snapshots do not reach its first LSN: refused (a restart needs one), nothing changed', async () => {
    const { dir } = await dataDir()
    const compacting = Wal.open(join(dir, 'log'), WAL)
    compacting.removeSegmentsBelow(COMMON_LSN)
    const firstLsn = compacting.firstLsn
    await compacting.close()
    // The oldest snapshot (100) is below the log's first LSN now; the other (180) is beyond COMMON_LSN.
    expect(firstLsn > (SNAPSHOT_LSNS[0] as number) && firstLsn <= COMMON_LSN).toBe(true)
    expect(refusal(dir, COMMON_LSN)).toBe('COMPACTED_WITHOUT_SNAPSHOT')
    untouched(dir, LAST_LSN)
    // With a snapshot at or above its first LSN and at or below the shared one, it is kept.
    expect(refusal(dir, 190)).toBe('kept')
  })

  test('a compacted log with a snapshot at its very first LSN (the layout a snapshot recovery leaves) is kept; one just below it cannot be verified, so is not enough', async () => {
    // A snapshot recovery anchors the new log at the snapshot's LSN S: the log starts at S, not S + 1
    // (snapshot-recovery.ts startAnchoredLog; snapshot-recovery.test.ts: the standby's firstLsn is the snapshot's LSN).
    // Compaction keeps the segment holding its basis snapshot's LSN. So a snapshot at firstLsn - 1 is no layout this
    // code leaves, and the loader could not use it: the log holds no frame at that LSN to check its chain head against.
    const { dir, hashes } = await dataDir()
    const compacting = Wal.open(join(dir, 'log'), WAL)
    compacting.removeSegmentsBelow(COMMON_LSN)
    const firstLsn = compacting.firstLsn
    await compacting.close()
    const below = firstLsn - 1
    expect(below > (SNAPSHOT_LSNS[0] as number)).toBe(true)
    const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 3 })
    const header = (lsn: number): SnapshotHeader => ({ lsn, createdAtMs: lsn, chainHead: hashes[lsn - 1] }) as unknown as SnapshotHeader
    store.write({ bytes: new TextEncoder().encode(`placeholder snapshot at ${below}`), digest: `digest-${below}`, header: header(below) })
    let refusedCode = ''
    try {
      chainHeadAt(openReadOnly(join(dir, 'log')), below)
    } catch (error) {
      refusedCode = String((error as { code?: unknown }).code)
    }
    expect(refusedCode).toBe('LOG_COMPACTED')
    expect(refusal(dir, COMMON_LSN)).toBe('COMPACTED_WITHOUT_SNAPSHOT')
    store.write({ bytes: new TextEncoder().encode(`placeholder snapshot at ${firstLsn}`), digest: `digest-${firstLsn}`, header: header(firstLsn) })
    const kept = keepCommonPrefix(dir, COMMON_LSN)
    expect(kept.snapshotsKept).toEqual([firstLsn, below]) // 100 went with the store's retention (keep 3)
    expect(openReadOnly(join(dir, 'log')).firstLsn).toBe(firstLsn)
    expect(chainHeadAt(openReadOnly(join(dir, 'log')), firstLsn)).toBe(hashes[firstLsn - 1] as string)
  })
})

describe('a node restarted after a crash while keeping its diverged prefix', () => {
  async function pairHalted(seed: number, step: PrefixStep): Promise<ForkedPair> {
    const pair = await forkedPair(seed)
    cleanups.push(pair.cleanup)
    expect(() => keepCommonPrefix(pair.a.dir, pair.commonLsn, { haltAfter: (at) => at === step })).toThrow(PrefixKeepingHalted)
    return pair
  }

  test('a build cut short is dropped at start-up; the node then diverges again and keeps its prefix', async () => {
    const pair = await pairHalted(43, 'snapshots_built')
    expect(existsSync(join(pair.a.dir, 'log.prefix'))).toBe(true)
    expect(openReadOnly(join(pair.a.dir, 'log')).lastLsn).toBe(pair.a.lastLsn)
    const rejoin = rejoiningNode(pair)
    cleanups.push(() => rejoin.node.stop())
    await rejoin.node.start()
    await caughtUp(rejoin, pair)
    expect(rejoin.logLines[0]).toBe("interrupted keeping of a diverged log's shared part rolled back at start-up")
    expect(rejoin.node.lastDivergence).toMatchObject({ keptPrefixToLsn: pair.commonLsn, fallback: null })
    expect(Math.min(...streamsFrom(pair))).toBe(pair.commonLsn + 1)
    expect(toHex(rejoin.node.gateway?.engine.wal.chainHead ?? new Uint8Array())).toBe(toHex(pair.b.gateway.engine.wal.chainHead))
    expect(rejoin.errors).toEqual([])
  }, 30_000)

  test('a committed swap cut short is completed at start-up: the node starts from the prefix and fetches only what follows it', async () => {
    const pair = await pairHalted(44, 'log_moved_aside')
    expect(existsSync(join(pair.a.dir, 'log'))).toBe(false)
    const rejoin = rejoiningNode(pair)
    cleanups.push(() => rejoin.node.stop())
    await rejoin.node.start()
    await caughtUp(rejoin, pair)
    expect(rejoin.logLines[0]).toBe("interrupted keeping of a diverged log's shared part finished at start-up")
    // No second divergence: it started at commonLsn and asked for nothing below commonLsn + 1.
    expect(rejoin.node.lastDivergence).toBeNull()
    expect(streamsFrom(pair)).toEqual([pair.commonLsn + 1])
    expect(rejoin.appended[0]).toBe(pair.commonLsn + 1)
    expect(toHex(rejoin.node.gateway?.engine.wal.chainHead ?? new Uint8Array())).toBe(toHex(pair.b.gateway.engine.wal.chainHead))
    const aside = readdirSync(pair.a.dir).filter((name) => name.startsWith('log.diverged-'))
    expect(aside).toHaveLength(1)
    expect(openReadOnly(join(pair.a.dir, aside[0] as string)).lastLsn).toBe(pair.a.lastLsn)
    expect(rejoin.errors).toEqual([])
  }, 30_000)
})

describe('a swap that fails after its commit point in a running node', () => {
  /** An io whose first rename or directory fsync that `matches` fails with EIO (the rename then not done). */
  function failingOnce(matches: (call: string, path: string) => boolean): { io: WalIo; failed: () => number } {
    let failed = 0
    const fail = (call: string, path: string): void => {
      if (failed > 0 || !matches(call, path)) return
      failed++
      throw Object.assign(new Error(`EIO: injected ${call} failure`), { code: 'EIO' })
    }
    const io: WalIo = {
      ...nodeIo,
      rename: (from, to) => {
        fail('rename', to)
        nodeIo.rename(from, to)
      },
      fsyncDirectory: (path) => {
        fail('fsyncDirectory', path)
        nodeIo.fsyncDirectory(path)
      },
    }
    return { io, failed: () => failed }
  }

  function expectFollowsFromKeptPrefix(rejoin: RejoiningNode, pair: ForkedPair): void {
    expect(Math.min(...streamsFrom(pair))).toBe(pair.commonLsn + 1)
    expect(rejoin.appended[0]).toBe(pair.commonLsn + 1)
    const asides = readdirSync(pair.a.dir).filter((name) => name.startsWith('log.diverged-'))
    expect(asides).toHaveLength(1)
    expect(openReadOnly(join(pair.a.dir, asides[0] as string)).lastLsn).toBe(pair.a.lastLsn)
    for (const leftover of ['log.prefix', 'snapshots.prefix', 'diverged-prefix.commit']) expect(existsSync(join(pair.a.dir, leftover))).toBe(false)
    expect(toHex(rejoin.node.gateway?.engine.wal.chainHead ?? new Uint8Array())).toBe(toHex(pair.b.gateway.engine.wal.chainHead))
    expect(rejoin.errors).toEqual([])
  }

  test('an EIO renaming the kept log into place is finished before the next start: the node follows from the kept prefix, and /health says so, the failure on the way included', async () => {
    const pair = await forkedPair(48)
    cleanups.push(pair.cleanup)
    // The old log went aside; moving the built one into its place fails: `log` is missing. Starting a gateway there
    // would open a new, empty log (Wal.open creates the directory).
    const injected = failingOnce((call, path) => call === 'rename' && path === join(pair.a.dir, 'log'))
    const rejoin = rejoiningNode(pair, { io: injected.io })
    cleanups.push(() => rejoin.node.stop())
    await rejoin.node.start()
    await caughtUp(rejoin, pair)
    expect(injected.failed()).toBe(1)
    // The committed swap was completed (the log kept through commonLsn), not replaced by an empty log fetched again.
    expectFollowsFromKeptPrefix(rejoin, pair)
    // /health: the divergence, the log kept after all (the swap was finished before the next start), and that
    // setting its records aside failed on the way.
    const divergence = rejoin.node.status().last_divergence
    expect(divergence).toMatchObject({ outcome: 'prefix_kept', common_lsn: pair.commonLsn, discarded_count: pair.a.lastLsn - pair.commonLsn, kept_prefix_to_lsn: pair.commonLsn })
    expect(divergence?.error).toMatch(/^SET_ASIDE_FAILED: .*EIO: injected rename failure/)
    expect(divergence?.moved_to).toBe(join(pair.a.dir, readdirSync(pair.a.dir).find((name) => name.startsWith('log.diverged-')) as string))
    expect(haStatusDepartures(rejoin.node.status())).toEqual([])
  }, 30_000)

  test('an fsync that fails right after the old log went aside is fatal: the node stops, retrying nothing; a restart finishes the swap and follows from the kept prefix', async () => {
    const pair = await forkedPair(49)
    cleanups.push(pair.cleanup)
    let asideRenamed = false
    const injected = failingOnce((call, path) => {
      if (call === 'rename' && /log\.diverged-\d+$/.test(path)) asideRenamed = true
      return call === 'fsyncDirectory' && asideRenamed
    })
    const failing = rejoiningNode(pair, { io: injected.io })
    cleanups.push(() => failing.node.stop())
    await failing.node.start()
    const died = await Promise.race([failing.node.died, Bun.sleep(15_000).then(() => null)])
    expect(died).toBeInstanceOf(SyncFailedError)
    expect(injected.failed()).toBe(1)
    expect(failing.node.role).toBe('failed')
    expect(failing.node.gateway).toBeNull()
    const health = failing.node.status()
    expect(health.failure).toMatch(/^FSYNC_FAILED: fsync of .* failed in a data dir swap \(EIO: injected fsyncDirectory failure\)/)
    expect(health.replicating).toBe(false)
    expect(health.last_divergence).toMatchObject({ outcome: 'failed', common_lsn: pair.commonLsn })
    expect(health.last_divergence?.error).toMatch(/^FSYNC_FAILED: /)
    expect(haStatusDepartures(health)).toEqual([])
    // Nothing was retried or cleaned up: the data dir is as the failed fsync left it, mid-swap.
    expect(existsSync(join(pair.a.dir, 'log'))).toBe(false)
    expect(existsSync(join(pair.a.dir, 'log.prefix'))).toBe(true)
    expect(existsSync(join(pair.a.dir, 'diverged-prefix.commit'))).toBe(true)
    await failing.node.stop()
    // The process restarts: the committed swap is finished from what is on disk, and the node follows on.
    const restarted = rejoiningNode(pair)
    cleanups.push(() => restarted.node.stop())
    await restarted.node.start()
    await caughtUp(restarted, pair)
    expect(restarted.logLines[0]).toBe("interrupted keeping of a diverged log's shared part finished at start-up")
    expectFollowsFromKeptPrefix(restarted, pair)
  }, 30_000)
})
