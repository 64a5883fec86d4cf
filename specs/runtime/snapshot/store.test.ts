import { afterAll, describe, expect, test } from 'bun:test'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, SyncFailedError, Wal } from '../../../wal/index.ts'
import { stateDigest } from '../../../src/kernel/index.ts'
import { Engine } from '../../../src/runtime/index.ts'
import {
  encodeSnapshot, KERNEL_SECTION, kernelStateBytes, loadNewestValid, MANIFEST_NAME, restoreEngine, snapshotFileName, SnapshotStore, takeSnapshot,
} from '../../../src/runtime/snapshot/index.ts'
import { withEvidence } from '../../support/evidence.ts'
import { crashWorld, removeDir, T0, tempDataDir, type World } from '../harness.ts'
import { faultyIo, SimulatedCrash } from './faulty-io.ts'
import { trade, tradedWorld } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const WAL = { durability: 'none', preallocateBytes: 0, segmentBytesMax: 1 << 20 } as const

function store(dataDir: string, keep = 2, io = nodeIo): SnapshotStore {
  return new SnapshotStore(join(dataDir, 'snapshots'), { io, keep })
}

/** A stopped data directory with one snapshot (A) part-way and more records after it. */
async function preparedDir(seed: number, keep: number): Promise<{ dir: string; lsnA: number; digestA: string }> {
  const world: World = await tradedWorld(seed, 24)
  dirs.push(world.dir)
  const taken = await takeSnapshot(world.gateway.engine, store(world.dir, keep), { nowMs: T0 })
  if (taken === null) throw new Error('expected a snapshot')
  const digestA = stateDigest(world.gateway.engine.state)
  await trade(world, { orders: 12, tag: 'more', seed: seed + 1 })
  await crashWorld(world)
  return { dir: world.dir, lsnA: taken.lsn, digestA }
}

function copyDir(from: string): string {
  const dir = tempDataDir()
  dirs.push(dir)
  cpSync(from, dir, { recursive: true })
  return dir
}

function genesisDigest(dir: string): string {
  const wal = Wal.open(join(dir, 'log'), WAL)
  const digest = stateDigest(Engine.replay(wal).state)
  void wal.close()
  return digest
}

describe('snapshot store', () => {
  test('a crash at every step of writing a snapshot leaves a usable snapshot and a restart equal to genesis', async () => {
    await withEvidence(
      { id: 'snapshot.crash-during-write', kind: 'fault', spec: 'specs/runtime/snapshot/store.test.ts', invariant: 'a crash at any step of writing a snapshot (plain or torn write) leaves the previous snapshot usable; restart from the newest valid snapshot equals replay from genesis' },
      async () => {
        let cycles = 0
        const stepsSeen: number[] = []
        for (const keep of [1, 2]) {
          const prepared = await preparedDir(40 + keep, keep)
          // A clean run counts the steps of one snapshot write (file, manifest, pruning).
          const counting = faultyIo({ crashAt: null, tornWrites: false })
          {
            const dir = copyDir(prepared.dir)
            const wal = Wal.open(join(dir, 'log'), WAL)
            expect(await takeSnapshot(Engine.replay(wal), store(dir, keep, counting), { nowMs: T0 + 1 })).not.toBeNull()
            await wal.close()
          }
          const total = counting.steps.length
          stepsSeen.push(total)
          expect(total).toBeGreaterThanOrEqual(10)
          for (const tornWrites of [false, true]) {
            for (let crashAt = 1; crashAt <= total; crashAt++) {
              const dir = copyDir(prepared.dir)
              const genesis = genesisDigest(dir)
              const wal = Wal.open(join(dir, 'log'), WAL)
              const engine = Engine.replay(wal)
              const io = faultyIo({ crashAt, tornWrites })
              const error = await takeSnapshot(engine, store(dir, keep, io), { nowMs: T0 + 1 }).then(() => null, (caught: unknown) => caught)
              // A crash at an fsync step comes wrapped as the fsync's failure (SyncFailedError, fatal to a running log).
              expect(error instanceof SimulatedCrash || (error instanceof SyncFailedError && error.cause instanceof SimulatedCrash)).toBe(true)
              // Restart: a fresh process with the real file system.
              const { loaded, rejected } = loadNewestValid(store(dir, keep), wal)
              expect(rejected).toEqual([])
              expect(loaded).not.toBeNull()
              expect([prepared.lsnA, wal.lastLsn]).toContain(loaded?.lsn as number)
              if (loaded?.lsn === prepared.lsnA) expect(stateDigest(loaded.state)).toBe(prepared.digestA)
              const restored = restoreEngine(wal, store(dir, keep), { load: true })
              expect(restored.report.snapshot).not.toBeNull()
              expect(restored.report.removedTempFiles.every((name) => name.endsWith('.tmp'))).toBe(true)
              expect(stateDigest(restored.engine.state)).toBe(genesis)
              await wal.close()
              cycles++
            }
          }
        }
        return { cases: cycles, steps: stepsSeen.reduce((a, b) => a + b, 0), details: { stepsPerWrite: stepsSeen, modes: ['crash', 'torn write'], keep: [1, 2] } }
      },
    )
    // About 4.5 s on a quiet machine (dozens of replays and restores): the default 5 s failed under load, on main too.
  }, 30_000)

  test('a corrupted newest snapshot is ignored and reported; restart uses the previous one, or genesis when none is left', async () => {
    await withEvidence(
      { id: 'snapshot.corrupted-ignored', kind: 'fault', spec: 'specs/runtime/snapshot/store.test.ts', invariant: 'a snapshot failing its digest, schema or chain-head check is never used and is reported; restart falls back to an older snapshot or genesis' },
      async () => {
        const prepared = await preparedDir(50, 3)
        const dir = copyDir(prepared.dir)
        const wal = Wal.open(join(dir, 'log'), WAL)
        const engine = Engine.replay(wal)
        const taken = await takeSnapshot(engine, store(dir, 3), { nowMs: T0 + 1 })
        if (taken === null) throw new Error('expected a snapshot')
        const genesis = stateDigest(engine.state)
        // Flip one byte in the middle of the newest snapshot.
        const path = join(dir, 'snapshots', taken.file)
        const bytes = readFileSync(path)
        bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0x40
        writeFileSync(path, bytes)
        const first = restoreEngine(wal, store(dir, 3), { load: true })
        expect(first.report.snapshot?.lsn).toBe(prepared.lsnA)
        expect(first.report.rejected).toEqual([{ file: taken.file, code: 'DIGEST_MISMATCH', message: expect.stringContaining('content digest') }])
        expect(stateDigest(first.engine.state)).toBe(genesis)
        // Corrupt the older one too: a truncated file. Then genesis.
        const older = join(dir, 'snapshots', snapshotFileName(prepared.lsnA))
        writeFileSync(older, readFileSync(older).subarray(0, 100))
        const second = restoreEngine(wal, store(dir, 3), { load: true })
        expect(second.report.snapshot).toBeNull()
        expect(second.report.rejected.map((r) => r.code)).toEqual(['DIGEST_MISMATCH', 'DIGEST_MISMATCH'])
        expect(stateDigest(second.engine.state)).toBe(genesis)
        await wal.close()
        return { cases: 2 }
      },
    )
  })

  test('a snapshot of another log, or of another schema version, is refused — never misread', async () => {
    await withEvidence(
      { id: 'snapshot.foreign-or-old-schema-refused', kind: 'fault', spec: 'specs/runtime/snapshot/store.test.ts', invariant: 'a snapshot whose chain head differs from the log at its LSN, or whose kernel-state schema differs from the build, is refused' },
      async () => {
        const prepared = await preparedDir(60, 3)
        const other = await preparedDir(61, 3)
        expect(other.lsnA).not.toBe(prepared.lsnA) // the seeds give logs of different lengths
        const dir = copyDir(prepared.dir)
        const wal = Wal.open(join(dir, 'log'), WAL)
        const engine = Engine.replay(wal)
        // The other log's snapshot, renamed into this directory at an LSN this log has: a chain-head mismatch.
        const foreignFile = snapshotFileName(other.lsnA)
        cpSync(join(other.dir, 'snapshots', foreignFile), join(dir, 'snapshots', foreignFile))
        // A well-formed snapshot of this very log, stamped with an older schema id.
        const old = encodeSnapshot(
          { lsn: engine.state.lastLsn, chainHead: [...wal.read(engine.state.lastLsn, { toLsn: engine.state.lastLsn })].map((f) => Buffer.from(f.hash).toString('hex'))[0] as string, createdAtMs: T0, kernelSchema: 'kernel-state/v0/0000000000000000' },
          new Map([[KERNEL_SECTION, kernelStateBytes(engine.state)]]),
        )
        writeFileSync(join(dir, 'snapshots', snapshotFileName(engine.state.lastLsn)), old.bytes)
        const { loaded, rejected } = loadNewestValid(store(dir, 3), wal)
        const codes = new Map(rejected.map((r) => [r.file, r.code]))
        expect(codes.get(snapshotFileName(engine.state.lastLsn))).toBe('SCHEMA_MISMATCH')
        expect(codes.get(foreignFile)).toBe('CHAIN_MISMATCH')
        expect(loaded?.lsn).toBe(prepared.lsnA)
        await wal.close()
        return { cases: 2 }
      },
    )
  })

  test('retention keeps N snapshots, listed newest first in the manifest; a lost manifest forgets nothing', async () => {
    const world = await tradedWorld(70, 6)
    dirs.push(world.dir)
    const snapshots = store(world.dir, 2)
    const lsns: number[] = []
    for (let round = 0; round < 4; round++) {
      await trade(world, { orders: 3, tag: `r${round}`, seed: 70 + round })
      const taken = await takeSnapshot(world.gateway.engine, snapshots, { nowMs: T0 + round })
      lsns.push(taken?.lsn as number)
      expect(await takeSnapshot(world.gateway.engine, snapshots, { nowMs: T0 + round })).toBeNull() // nothing new
    }
    const files = readdirSync(join(world.dir, 'snapshots')).filter((name) => name.endsWith('.snap')).sort()
    expect(files).toEqual(lsns.slice(-2).map(snapshotFileName))
    expect(snapshots.readManifest().entries.map((entry) => entry.lsn)).toEqual(lsns.slice(-2).reverse())
    writeFileSync(join(world.dir, 'snapshots', MANIFEST_NAME), '{ broken')
    await trade(world, { orders: 3, tag: 'last', seed: 79 })
    await takeSnapshot(world.gateway.engine, snapshots, { nowMs: T0 + 9 })
    expect(snapshots.readManifest().entries).toHaveLength(2)
    expect(existsSync(join(world.dir, 'snapshots', snapshotFileName(lsns[3] as number)))).toBe(true)
    await crashWorld(world)
  })

  test('a directory under a snapshot\'s name neither fails the writes nor stops retention', async () => {
    // Pruning unlinked it: EISDIR, after the new snapshot and manifest were durable, so every write was reported failed
    // ("error: snapshot at shutdown: EISDIR …") and the files after it in the listing were never pruned.
    const world = await tradedWorld(77, 6)
    dirs.push(world.dir)
    const snapshots = store(world.dir, 2)
    const stray = snapshotFileName(1)
    mkdirSync(join(world.dir, 'snapshots'), { recursive: true })
    mkdirSync(join(world.dir, 'snapshots', stray))
    const lsns: number[] = []
    for (let round = 0; round < 4; round++) {
      await trade(world, { orders: 3, tag: `d${round}`, seed: 77 + round })
      lsns.push((await takeSnapshot(world.gateway.engine, snapshots, { nowMs: T0 + round }))?.lsn as number)
    }
    const names = readdirSync(join(world.dir, 'snapshots')).filter((name) => name.endsWith('.snap')).sort()
    expect(names).toEqual([stray, ...lsns.slice(-2).map(snapshotFileName)])
    await crashWorld(world)
  })

  test('a manifest larger than any of ours (1 MiB) is not read: reported as a manifest problem, as a damaged one is', async () => {
    // It was read whole, whatever its size (a wrong file under its name: a log segment, an editor's dump).
    const dir = tempDataDir()
    dirs.push(dir)
    mkdirSync(join(dir, 'snapshots'))
    writeFileSync(join(dir, 'snapshots', MANIFEST_NAME), ' '.repeat(1024 * 1024 + 1))
    let bytesRead = 0
    const counting = { ...nodeIo, read: (fd: number, target: Uint8Array, positionBytes: number) => {
      const count = nodeIo.read(fd, target, positionBytes)
      bytesRead += count
      return count
    } }
    expect(store(dir, 2, counting).readManifest()).toEqual({ entries: [], problem: `manifest unreadable: RangeError: ${1024 * 1024 + 1} bytes, larger than ${1024 * 1024}` })
    expect(bytesRead).toBe(0)
  })

  test('other projections ride along as named sections and come back by name on restore', async () => {
    const world = await tradedWorld(75, 6)
    dirs.push(world.dir)
    const image = new TextEncoder().encode('query-model image at this LSN')
    const taken = await takeSnapshot(world.gateway.engine, store(world.dir), { nowMs: T0, sections: [{ name: 'backoffice', capture: () => image }] })
    await crashWorld(world)
    const wal = Wal.open(join(world.dir, 'log'), WAL)
    const restored = restoreEngine(wal, store(world.dir), { load: true })
    expect(restored.report.snapshot?.lsn).toBe(taken?.lsn as number)
    expect([...restored.sections.keys()]).toEqual(['backoffice'])
    expect(restored.sections.get('backoffice')).toEqual(image)
    await wal.close()
  })

  test('keepUpTo builds a snapshot directory of the snapshots at or below an LSN: files linked, manifest naming them, the rest left out', async () => {
    const world = await tradedWorld(76, 4)
    dirs.push(world.dir)
    const snapshots = store(world.dir, 3)
    const lsns: number[] = []
    for (let round = 0; round < 3; round++) {
      await trade(world, { orders: 2, tag: `k${round}`, seed: 90 + round })
      lsns.push((await takeSnapshot(world.gateway.engine, snapshots, { nowMs: T0 + round }))?.lsn as number)
    }
    await crashWorld(world)
    const target = join(tempDataDir(), 'snapshots.kept')
    dirs.push(target)
    const kept = snapshots.keepUpTo(target, lsns[1] as number, () => false)
    expect(kept.map((entry) => entry.lsn)).toEqual([lsns[1] as number, lsns[0] as number])
    const keptStore = new SnapshotStore(target, { io: nodeIo, keep: 3 })
    expect(keptStore.readManifest()).toEqual({ entries: kept, problem: null })
    expect(keptStore.candidates().map((candidate) => candidate.lsn)).toEqual([lsns[1] as number, lsns[0] as number])
    for (const entry of kept) expect(statSync(join(target, entry.file)).ino).toBe(statSync(join(snapshots.dir, entry.file)).ino)
    // The source directory is as it was: all three, in its manifest too.
    expect(snapshots.readManifest().entries.map((entry) => entry.lsn)).toEqual([...lsns].reverse())
    expect(() => snapshots.keepUpTo(target, lsns[2] as number, () => false)).toThrow(/not empty/)
  })
})

test("removeTempFiles removes the store's own temp files only: a snapshot's and the manifest's, not another *.tmp in the directory", () => {
  const dir = tempDataDir()
  dirs.push(dir)
  const snapshots = join(dir, 'snapshots')
  mkdirSync(snapshots, { recursive: true })
  const own = [`${snapshotFileName(42)}.tmp`, `${MANIFEST_NAME}.tmp`]
  const others = ['notes.tmp', 'backup.tar.tmp', 'snapshot.tmp']
  for (const name of [...own, ...others]) writeFileSync(join(snapshots, name), 'x')
  expect(store(dir).removeTempFiles().sort()).toEqual([...own].sort())
  expect(readdirSync(snapshots).sort()).toEqual([...others].sort())
})
