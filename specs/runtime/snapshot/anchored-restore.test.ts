/**
 * Restart from a snapshot with the log opened anchored at the snapshot's LSN (src/runtime/snapshot/restore.ts): the
 * frames below it are not read on open; falling back from a refused snapshot verifies them first.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stateDigest } from '../../../src/kernel/index.ts'
import { Engine } from '../../../src/runtime/engine.ts'
import { chainAnchorFor, restoreEngine, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { nodeIo, Wal, WalCorruptionError } from '../../../wal/index.ts'
import { crashWorld, removeDir, run, startWorld } from '../harness.ts'
import { trade } from './support.ts'

const WAL = { durability: 'none', segmentBytesMax: 16 * 1024, preallocateBytes: 0 } as const
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** A stopped data directory: a multi-segment log with one snapshot near its end. */
async function stoppedDir(seed: number): Promise<{ dir: string; snapshotLsn: number; genesisDigest: string }> {
  const world = await startWorld({ seed, wal: WAL, snapshots: { atShutdown: false, keep: 2 } })
  dirs.push(world.dir)
  await trade(world, { orders: 40, tag: `a${seed}`, seed })
  await run(world, 200)
  const taken = await world.gateway.snapshot()
  await trade(world, { orders: 4, tag: `a${seed}-tail`, seed: seed + 1 })
  await run(world, 200)
  await crashWorld(world)
  const wal = Wal.open(join(world.dir, 'log'), WAL)
  const genesisDigest = stateDigest(Engine.replay(wal).state)
  await wal.close()
  return { dir: world.dir, snapshotLsn: taken?.lsn ?? 0, genesisDigest }
}

function restore(dir: string): { wal: Wal; restored: ReturnType<typeof restoreEngine> } {
  const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 2 })
  const wal = Wal.open(join(dir, 'log'), { ...WAL, chainAnchorLsn: chainAnchorFor(store, true) })
  return { wal, restored: restoreEngine(wal, store, { load: true }) }
}

function corruptSnapshot(dir: string): void {
  const name = readdirSync(join(dir, 'snapshots')).find((file) => file.endsWith('.snap')) as string
  const path = join(dir, 'snapshots', name)
  const bytes = readFileSync(path)
  bytes[bytes.byteLength - 10] = (bytes[bytes.byteLength - 10] as number) ^ 0x01
  writeFileSync(path, bytes)
}

/** Edits a payload byte of the first frame of the log's first segment and fixes its CRC: only the chain can tell. */
function editFirstFrame(dir: string): void {
  const name = readdirSync(join(dir, 'log')).filter((file) => file.endsWith('.seg')).sort()[0] as string
  const path = join(dir, 'log', name)
  const bytes = readFileSync(path)
  const at = 64
  const view = new DataView(bytes.buffer, bytes.byteOffset)
  const frameBytes = view.getUint32(at, true) + 8
  bytes[at + 60] = (bytes[at + 60] as number) ^ 0x01
  view.setUint32(at + 4, Bun.hash.crc32(bytes.subarray(at + 8, at + frameBytes)), true)
  writeFileSync(path, bytes)
}

describe('restore with an anchored log', () => {
  test('from the snapshot: segments below it are skipped, the state equals genesis replay', async () => {
    const { dir, snapshotLsn, genesisDigest } = await stoppedDir(31)
    const { wal, restored } = restore(dir)
    expect(wal.recovery.skippedSegments).toBeGreaterThan(0)
    expect(restored.report.snapshot?.lsn).toBe(snapshotLsn)
    expect(wal.chainAnchorLsn).toBe(snapshotLsn)
    expect(stateDigest(restored.engine.state)).toBe(genesisDigest)
    await wal.close()
  })

  test('a refused snapshot falls back to genesis after verifying the skipped frames', async () => {
    const { dir, genesisDigest } = await stoppedDir(32)
    corruptSnapshot(dir)
    const { wal, restored } = restore(dir)
    expect(restored.report.snapshot).toBeNull()
    expect(restored.report.rejected.length).toBe(1)
    expect(wal.chainAnchorLsn).toBe(0)
    expect(stateDigest(restored.engine.state)).toBe(genesisDigest)
    await wal.close()
  })

  test('falling back over an edited frame below the anchor refuses to start, as a full open would', async () => {
    const { dir } = await stoppedDir(33)
    corruptSnapshot(dir)
    editFirstFrame(dir)
    const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 2 })
    const wal = Wal.open(join(dir, 'log'), { ...WAL, chainAnchorLsn: chainAnchorFor(store, true) })
    expect(() => restoreEngine(wal, store, { load: true })).toThrow(WalCorruptionError)
    await wal.close()
    expect(() => Wal.open(join(dir, 'log'), WAL)).toThrow(WalCorruptionError)
  })

  test('with a valid snapshot an edit below it is not looked for at start (the documented trade-off)', async () => {
    const { dir, snapshotLsn } = await stoppedDir(34)
    editFirstFrame(dir)
    const { wal, restored } = restore(dir)
    expect(restored.report.snapshot?.lsn).toBe(snapshotLsn)
    expect(() => wal.verifyChainBelowAnchor()).toThrow(WalCorruptionError)
    await wal.close()
  })
})
