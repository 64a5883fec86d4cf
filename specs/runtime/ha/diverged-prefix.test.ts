/**
 * A deposed leader whose log holds records it never got acknowledged comes back as a standby: DIVERGED. It keeps the
 * log it shares with the new leader (hard links, the segment holding the last shared LSN copied and cut), sets the
 * rest aside whole for forensics, restarts from that prefix and fetches only what comes after it.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, openReadOnly, toHex, type WalIo } from '../../../wal/index.ts'
import { SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import type { DivergenceReport } from '../../../src/runtime/ha/index.ts'
import { caughtUp, forkedPair, rejoiningNode, segmentNames, streamsFrom, type ForkedPair, type RejoinOptions, type RejoiningNode } from './forked-pair.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Two worlds, a replication server and an HaNode in real time: allow for a loaded machine. */
const TEST_MS_MAX = 30_000

async function rejoined(seed: number, options: RejoinOptions = {}): Promise<{ pair: ForkedPair; rejoin: RejoiningNode; report: DivergenceReport }> {
  const pair = await forkedPair(seed)
  cleanups.push(pair.cleanup)
  const rejoin = rejoiningNode(pair, options)
  cleanups.push(() => rejoin.node.stop())
  await rejoin.node.start()
  await caughtUp(rejoin, pair)
  const report = rejoin.node.lastDivergence
  if (report === null) throw new Error(`no divergence was reported: ${rejoin.logLines.join(' | ')}`)
  return { pair, rejoin, report }
}

function snapshotLsns(dir: string): number[] {
  return new SnapshotStore(dir, { io: nodeIo, keep: 3 }).candidates().map((candidate) => candidate.lsn)
}

/** Everything A held is still on disk in the log set aside: its whole log, the records after commonLsn included. */
function expectEvidenceKept(report: DivergenceReport, pair: ForkedPair): void {
  const evidence = openReadOnly(report.movedTo)
  expect([evidence.firstLsn, evidence.lastLsn]).toEqual([1, pair.a.lastLsn])
  // Read as each frame comes: a frame's views are valid until the next (wal/read-buffer.ts). Collected first, the frames
  // of a segment read before the last showed the next segment's bytes as their hash once the tail crossed a segment.
  const tail: { hash: string; epoch: number }[] = []
  for (const frame of evidence.read(pair.commonLsn + 1, { verifyChain: true })) tail.push({ hash: toHex(frame.hash), epoch: frame.epoch })
  expect(tail.map((frame) => frame.hash)).toEqual(pair.a.divergedHashes)
  expect(new Set(tail.map((frame) => frame.epoch))).toEqual(new Set([1]))
}

/** A follows B with B's chain head, and decided B's commands again exactly as B did. */
function expectFollowingLeader(rejoin: RejoiningNode, pair: ForkedPair): void {
  const standby = rejoin.node.gateway
  const leaderWal = pair.b.gateway.engine.wal
  expect(toHex(standby?.engine.wal.chainHead ?? new Uint8Array())).toBe(toHex(leaderWal.chainHead))
  const shadow = standby?.engine.shadow?.stats
  expect(shadow?.decisions).toBeGreaterThan(0)
  expect(shadow?.mismatches).toBe(0)
  expect(rejoin.errors).toEqual([])
}

describe('a diverged standby keeps the log it shares with the leader', () => {
  test('a deposed leader rejoins on its own log up to the last shared LSN and fetches only the records after it', async () => {
    const { pair, rejoin, report } = await rejoined(41)
    const { commonLsn } = pair
    expect(report).toMatchObject({
      outcome: 'prefix_kept', commonLsn, keptPrefixToLsn: commonLsn, fallback: null, error: null,
      discardedFromLsn: commonLsn + 1, discardedToLsn: pair.a.lastLsn, discardedCount: pair.a.lastLsn - commonLsn, discardedEpochs: [1],
      discardedEpochCount: 1, copiedSegments: 1,
    })
    expect(report.discardedExamples.at(0)).toEqual({ lsn: commonLsn + 1, epoch: 1 })
    expect(report.discardedExamples.at(-1)).toEqual({ lsn: pair.a.lastLsn, epoch: 1 })
    expect(report.linkedSegments).toBeGreaterThan(3)
    // The kept log's sealed segments are the very files set aside (same inodes); the one holding commonLsn is a
    // copy of the set-aside one's bytes up to the end of commonLsn's frame, written on since.
    const logDir = join(pair.a.dir, 'log')
    const asideSegments = segmentNames(report.movedTo)
    for (const name of asideSegments.slice(0, report.linkedSegments)) expect(statSync(join(logDir, name)).ino).toBe(statSync(join(report.movedTo, name)).ino)
    const cut = asideSegments[report.linkedSegments] as string
    expect(statSync(join(logDir, cut)).ino).not.toBe(statSync(join(report.movedTo, cut)).ino)
    expect(toHex(readFileSync(join(logDir, cut)).subarray(0, report.copiedBytes))).toBe(toHex(readFileSync(join(report.movedTo, cut)).subarray(0, report.copiedBytes)))
    // From the leader it took exactly the LSNs after commonLsn; no stream was asked for from below it.
    const leaderLastLsn = pair.b.gateway.engine.wal.lastLsn
    expect(rejoin.appended).toEqual(Array.from({ length: leaderLastLsn - commonLsn }, (_, index) => commonLsn + 1 + index))
    expect(streamsFrom(pair)[0]).toBe(pair.a.lastLsn + 1) // the first ask, answered DIVERGED
    expect(streamsFrom(pair).slice(1)).toContain(commonLsn + 1)
    expect(Math.min(...streamsFrom(pair))).toBe(commonLsn + 1)
    // It restarted from the snapshot below commonLsn; the one above (state built from the records set aside) went aside.
    expect(report.snapshotsKept).toEqual([pair.a.snapshotBelowLsn])
    expect(rejoin.node.gateway?.restoreReport?.snapshot?.lsn).toBe(pair.a.snapshotBelowLsn)
    expect(snapshotLsns(join(pair.a.dir, 'snapshots'))).toEqual([pair.a.snapshotBelowLsn])
    expect(snapshotLsns(report.movedTo.replace('/log.', '/snapshots.'))).toContain(pair.a.snapshotAboveLsn)
    expectFollowingLeader(rejoin, pair)
    expectEvidenceKept(report, pair)
    // Nothing of the build is left beside the log.
    for (const leftover of ['log.prefix', 'snapshots.prefix', 'diverged-prefix.commit']) expect(existsSync(join(pair.a.dir, leftover))).toBe(false)
    // The kept log, written on by replication, verifies whole and ends where the leader's does.
    await rejoin.node.stop()
    const kept = openReadOnly(logDir, { verifyChain: true })
    expect([kept.lastLsn, toHex(kept.chainHead)]).toEqual([leaderLastLsn, toHex(pair.b.gateway.engine.wal.chainHead)])
  }, TEST_MS_MAX)

  test('a build that fails (a link refused with EIO) falls back to setting the whole log aside and re-syncing from scratch, losing nothing', async () => {
    const failingLink: WalIo = {
      ...nodeIo,
      link: () => {
        throw Object.assign(new Error('EIO: injected link failure'), { code: 'EIO' })
      },
    }
    const { pair, rejoin, report } = await rejoined(42, { io: failingLink })
    expect(report).toMatchObject({ outcome: 'log_set_aside', commonLsn: pair.commonLsn, keptPrefixToLsn: null, linkedSegments: 0, copiedSegments: 0, snapshotsKept: [], error: null })
    expect(report.fallback).toMatch(/^PREFIX_BUILD_FAILED: .*EIO: injected link failure/)
    for (const leftover of ['log.prefix', 'snapshots.prefix', 'diverged-prefix.commit']) expect(existsSync(join(pair.a.dir, leftover))).toBe(false)
    expectEvidenceKept(report, pair)
    expect(snapshotLsns(report.movedTo.replace('/log.', '/snapshots.'))).toEqual(expect.arrayContaining([pair.a.snapshotBelowLsn, pair.a.snapshotAboveLsn]))
    // As before this change: the whole log fetched again, from LSN 1.
    expect(streamsFrom(pair)).toContain(1)
    expect(rejoin.appended[0]).toBe(1)
    expect(rejoin.appended).toHaveLength(pair.b.gateway.engine.wal.lastLsn)
    expectFollowingLeader(rejoin, pair)
  }, TEST_MS_MAX)

  test('a kept log that does not start is set aside too, and the node re-syncs from scratch', async () => {
    // Start 0 is on the diverged log; start 1, on the kept prefix, fails (a snapshot or the log refused, say).
    const { pair, rejoin, report } = await rejoined(45, { refuseStart: (index) => index === 1 })
    expect(report).toMatchObject({ outcome: 'log_set_aside', commonLsn: pair.commonLsn, keptPrefixToLsn: null, linkedSegments: 0, error: null })
    expect(report.fallback).toMatch(/^PREFIX_START_FAILED: the log kept through LSN \d+ did not start \(start refused by the spec\)/)
    expectEvidenceKept(report, pair)
    const refused = openReadOnly(`${report.movedTo}.kept`)
    expect(refused.lastLsn).toBe(pair.commonLsn)
    expect(rejoin.appended[0]).toBe(1)
    expect(rejoin.appended).toHaveLength(pair.b.gateway.engine.wal.lastLsn)
    expectFollowingLeader(rejoin, pair)
  }, TEST_MS_MAX)
})
