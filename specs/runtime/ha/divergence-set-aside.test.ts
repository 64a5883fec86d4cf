/**
 * Setting a diverged log aside (divergence.ts, dir-swap.ts, durable-fs.ts): every rename is made durable (its
 * directory fsynced) before the next step, a failed fsync is fatal (typed, never swallowed), the names logs go aside
 * under never collide (two divergences in one millisecond, or a clock stepped back), and what was set aside is
 * described in bounded memory however long it is.
 */

import { afterEach, describe, expect, setSystemTime, test } from 'bun:test'
import { cpSync, existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { nodeIo, openReadOnly, Wal, type WalIo } from '../../../wal/index.ts'
import { SnapshotStore, type SnapshotHeader } from '../../../src/runtime/snapshot/index.ts'
import { AsideExistsError } from '../../../src/runtime/ha/dir-swap.ts'
import { finishKeepingPrefix, keepCommonPrefix, PrefixKeepingHalted } from '../../../src/runtime/ha/diverged-prefix.ts'
import {
  DISCARDED_EPOCHS_SHOWN, framesBeyond, setDivergedLogAside, setDivergedTailAside, setKeptPrefixAside, type DiscardedFrames, type DivergenceReport,
} from '../../../src/runtime/ha/divergence.ts'
import { renameDurably, SyncFailedError } from '../../../src/runtime/ha/durable-fs.ts'
import { record, removeTempDirs, tempDir } from '../../wal/support.ts'

afterEach(() => {
  setSystemTime()
  removeTempDirs()
})

const WAL = { segmentBytesMax: 4096, durability: 'none', preallocateBytes: 0 } as const
const NOTHING_BEYOND: DiscardedFrames = { count: 0, lastLsn: 0, epochs: [], epochCount: 0, examples: [] }

/** A stopped data dir: `lastLsn` records over many segments, and a placeholder snapshot file at LSN 10. */
async function dataDir(lastLsn: number): Promise<string> {
  const dir = tempDir()
  const wal = Wal.open(join(dir, 'log'), WAL)
  for (let lsn = 1; lsn <= lastLsn; lsn += 10) await wal.append(Array.from({ length: 10 }, (_, index) => record(`record ${lsn + index}`)))
  const chainHead = [...wal.read(10, { toLsn: 10 })].map((frame) => Buffer.from(frame.hash).toString('hex'))[0]
  await wal.close()
  const header = { lsn: 10, createdAtMs: 10, chainHead } as unknown as SnapshotHeader
  new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 3 }).write({ bytes: new TextEncoder().encode('placeholder'), digest: 'digest-10', header })
  return dir
}

/** node:fs, with every rename and directory fsync written down in order (`rename FROM -> TO`, `fsyncDirectory DIR`). */
function recordingIo(failFsyncDirectory = false): { io: WalIo; calls: string[] } {
  const calls: string[] = []
  const io: WalIo = {
    ...nodeIo,
    rename: (from, to) => {
      calls.push(`rename ${from} -> ${to}`)
      nodeIo.rename(from, to)
    },
    fsyncDirectory: (path) => {
      calls.push(`fsyncDirectory ${path}`)
      if (failFsyncDirectory) throw Object.assign(new Error('EIO: injected fsync failure'), { code: 'EIO' })
      nodeIo.fsyncDirectory(path)
    },
  }
  return { io, calls }
}

/** Every rename is followed, before the next rename and before the end, by fsyncs of the directories it changed. */
function expectRenamesDurable(calls: string[]): void {
  const renames = calls.flatMap((call, index) => (call.startsWith('rename ') ? [index] : []))
  expect(renames.length).toBeGreaterThan(0)
  for (const [position, index] of renames.entries()) {
    const [from, to] = (calls[index] as string).slice('rename '.length).split(' -> ') as [string, string]
    const until = renames[position + 1] ?? calls.length
    const synced = calls.slice(index + 1, until)
    for (const directory of new Set([dirname(to), dirname(from)])) expect({ rename: calls[index], synced }).toEqual({ rename: calls[index], synced: expect.arrayContaining([`fsyncDirectory ${directory}`]) })
  }
}

function keptReport(dir: string, movedTo: string, keptPrefixToLsn: number): DivergenceReport {
  return {
    outcome: 'prefix_kept', commonLsn: keptPrefixToLsn, discardedFromLsn: keptPrefixToLsn + 1, discardedToLsn: keptPrefixToLsn, discardedCount: 0,
    discardedEpochs: [], discardedEpochCount: 0, discardedExamples: [], movedTo: join(dir, basename(movedTo)), keptPrefixToLsn, linkedSegments: 0,
    linkedBytes: 0, copiedSegments: 1, copiedBytes: 0, snapshotsKept: [], buildMs: 0, fallback: null, error: null,
  }
}

describe('every rename that sets a log aside is durable before the next step', () => {
  test('setting the whole log aside fsyncs the data dir after each rename', async () => {
    const dir = await dataDir(40)
    const { io, calls } = recordingIo()
    const report = setDivergedLogAside(dir, 20, NOTHING_BEYOND, { io })
    const suffix = basename(report.movedTo).slice('log.'.length)
    expect(calls).toEqual([
      `rename ${join(dir, 'log')} -> ${join(dir, `log.${suffix}`)}`, `fsyncDirectory ${dir}`,
      `rename ${join(dir, 'snapshots')} -> ${join(dir, `snapshots.${suffix}`)}`, `fsyncDirectory ${dir}`,
    ])
  })

  test('setting a kept log that did not start aside fsyncs the data dir after each rename', async () => {
    const dir = await dataDir(40)
    const kept = keepCommonPrefix(dir, 30)
    const { io, calls } = recordingIo()
    const report = setKeptPrefixAside(dir, keptReport(dir, kept.movedTo, 30), new Error('refused'), io)
    expect(report.fallback).toMatch(/^PREFIX_START_FAILED: .*set aside as log\.diverged-\d+\.kept$/)
    expect(calls).toHaveLength(4)
    expectRenamesDurable(calls)
    expect(existsSync(join(dir, 'log'))).toBe(false)
  })

  test('keeping the shared prefix: the commit file and both swaps are durable renames', async () => {
    const dir = await dataDir(40)
    const { io, calls } = recordingIo()
    keepCommonPrefix(dir, 30, { io })
    // The kept snapshots' manifest and the commit file put in place, then log and snapshots each moved aside and
    // replaced: six renames.
    expect(calls.filter((call) => call.startsWith('rename ')).map((call) => basename(call.split(' -> ')[1] as string))).toEqual([
      'MANIFEST.json', 'diverged-prefix.commit', expect.stringMatching(/^log\.diverged-\d+$/), 'log', expect.stringMatching(/^snapshots\.diverged-\d+$/), 'snapshots',
    ])
    expectRenamesDurable(calls)
  })

  test('a rename into another directory fsyncs both directories', () => {
    const from = join(tempDir(), 'moved')
    const to = join(tempDir(), 'moved')
    mkdirSync(from)
    const { io, calls } = recordingIo()
    renameDurably(io, from, to)
    expect(calls).toEqual([`rename ${from} -> ${to}`, `fsyncDirectory ${dirname(to)}`, `fsyncDirectory ${dirname(from)}`])
  })

  test('a failed fsync after a rename is fatal: SyncFailedError, nothing done after it', async () => {
    const dir = await dataDir(40)
    const { io, calls } = recordingIo(true)
    expect(() => setDivergedLogAside(dir, 20, NOTHING_BEYOND, { io })).toThrow(SyncFailedError)
    // The log was renamed, its fsync failed, and the snapshots were left where they were.
    expect(calls).toHaveLength(2)
    expect(existsSync(join(dir, 'snapshots'))).toBe(true)
  })
})

describe('the names logs go aside under never collide', () => {
  test('divergences within one millisecond set their logs aside under different names, every earlier aside untouched', async () => {
    setSystemTime(new Date(1_800_000_000_000))
    const dir = await dataDir(200)
    const first = keepCommonPrefix(dir, 130)
    // The kept log diverges again in the same millisecond, then is set aside whole, still in that millisecond.
    const second = keepCommonPrefix(dir, 120)
    const third = setDivergedLogAside(dir, 100, NOTHING_BEYOND)
    expect([first.movedTo, second.movedTo, third.movedTo].map((path) => basename(path))).toEqual([
      'log.diverged-1800000000000', 'log.diverged-1800000000000-1', 'log.diverged-1800000000000-2',
    ])
    expect([first.movedTo, second.movedTo, third.movedTo].map((path) => openReadOnly(path).lastLsn)).toEqual([200, 130, 120])
    for (const suffix of ['', '-1', '-2']) expect(existsSync(join(dir, `snapshots.diverged-1800000000000${suffix}`))).toBe(true)
  })

  test('a clock stepped back to the time of an earlier aside does not reuse its name', async () => {
    setSystemTime(new Date(1_800_000_000_000))
    const dir = await dataDir(60)
    const first = setDivergedTailAside(dir, 50, NOTHING_BEYOND)
    cpSync(first.movedTo, join(dir, 'log'), { recursive: true })
    setSystemTime(new Date(1_800_000_000_000))
    const second = setDivergedTailAside(dir, 40, NOTHING_BEYOND)
    expect([first.outcome, second.outcome]).toEqual(['prefix_kept', 'prefix_kept'])
    expect(basename(second.movedTo)).toBe('log.diverged-1800000000000-1')
    expect(openReadOnly(first.movedTo).lastLsn).toBe(60)
  })

  test('a kept log set aside twice under the same report gets a second name', async () => {
    const dir = await dataDir(40)
    const kept = keepCommonPrefix(dir, 30)
    const report = keptReport(dir, kept.movedTo, 30)
    setKeptPrefixAside(dir, report, new Error('refused'))
    cpSync(`${kept.movedTo}.kept`, join(dir, 'log'), { recursive: true })
    const again = setKeptPrefixAside(dir, report, new Error('refused again'))
    expect(again.fallback).toMatch(/set aside as log\.diverged-\d+\.kept-1$/)
    expect(openReadOnly(`${kept.movedTo}.kept`).lastLsn).toBe(30)
  })
})

describe('a swap never sets a log aside onto an existing aside', () => {
  test('an aside put in its way after the commit (an empty one too): ASIDE_EXISTS, nothing renamed; finished once it is moved away', async () => {
    const dir = await dataDir(40)
    expect(() => keepCommonPrefix(dir, 30, { asideSuffix: 'diverged-by-hand', haltAfter: (step) => step === 'committed' })).toThrow(PrefixKeepingHalted)
    // Someone makes the directory the committed swap is about to move log/ onto: an empty one would be replaced.
    const aside = join(dir, 'log.diverged-by-hand')
    mkdirSync(aside)
    let refused: unknown = null
    try {
      finishKeepingPrefix(dir)
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(AsideExistsError)
    expect(refused).toMatchObject({ code: 'ASIDE_EXISTS', dir: join(dir, 'log'), aside })
    expect((refused as Error).message).toStartWith(`ASIDE_EXISTS: ${aside} exists already`)
    expect(readdirSync(aside)).toEqual([])
    expect(openReadOnly(join(dir, 'log')).lastLsn).toBe(40)
    expect(existsSync(join(dir, 'log.prefix'))).toBe(true)
    expect(existsSync(join(dir, 'diverged-prefix.commit'))).toBe(true)
    // Moved away by hand, the next start finishes the swap.
    rmdirSync(aside)
    expect(finishKeepingPrefix(dir)).toBe('finished')
    expect(openReadOnly(aside).lastLsn).toBe(40)
    expect(openReadOnly(join(dir, 'log')).lastLsn).toBe(30)
  })
})

describe('what was set aside, described in bounded memory', () => {
  test('the records beyond the shared LSN are counted, with their first epochs and the first and last few of them', async () => {
    const dir = tempDir()
    // 20 terms of 50 records: epochs 1 to 20, LSNs 1 to 1000.
    for (let epoch = 1; epoch <= 20; epoch++) {
      const wal = Wal.open(join(dir, 'log'), { ...WAL, epoch })
      await wal.append(Array.from({ length: 50 }, (_, index) => record(`term ${epoch} record ${index}`)))
      await wal.close()
    }
    const wal = Wal.open(join(dir, 'log'), { ...WAL, epoch: 20 })
    const beyond = framesBeyond(wal, 25)
    expect(framesBeyond(wal, 1000)).toEqual({ count: 0, lastLsn: 1000, epochs: [], epochCount: 0, examples: [] })
    await wal.close()
    expect(beyond).toEqual({
      count: 975,
      lastLsn: 1000,
      epochs: Array.from({ length: DISCARDED_EPOCHS_SHOWN }, (_, index) => index + 1),
      epochCount: 20,
      examples: [{ lsn: 26, epoch: 1 }, { lsn: 27, epoch: 1 }, { lsn: 28, epoch: 1 }, { lsn: 998, epoch: 20 }, { lsn: 999, epoch: 20 }, { lsn: 1000, epoch: 20 }],
    })
    const report = setDivergedTailAside(dir, 25, beyond)
    expect(report).toMatchObject({ discardedFromLsn: 26, discardedToLsn: 1000, discardedCount: 975, discardedEpochCount: 20, discardedExamples: beyond.examples })
    expect(JSON.stringify(report).length).toBeLessThan(2_000)
  })
})
