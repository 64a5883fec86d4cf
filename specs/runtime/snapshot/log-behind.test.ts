import { afterAll, describe, expect, test } from 'bun:test'
import { cpSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, Wal } from '../../../wal/index.ts'
import { parseSegmentName } from '../../../wal/segment.ts'
import { restoreEngine, RestoreError, snapshotFileName, SnapshotStore, takeSnapshot } from '../../../src/runtime/snapshot/index.ts'
import { crashWorld, removeDir, startWorld, T0, tempDataDir } from '../harness.ts'
import { trade } from './support.ts'
import { runCli } from '../../../src/cli/index.ts'
import { recordingIo } from '../../cli/io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const WAL = { durability: 'none', preallocateBytes: 0, segmentBytesMax: 4096 } as const

function store(dataDir: string): SnapshotStore {
  return new SnapshotStore(join(dataDir, 'snapshots'), { io: nodeIo, keep: 3 })
}

/**
 * A stopped data directory with snapshots A and B, whose log then lost every segment after the one holding A's LSN
 * (deleted, or renamed so the log does not see it): the log ends between A and B.
 */
async function logLostTail(seed: number): Promise<{ dir: string; lsnA: number; lsnB: number; lastLsn: number }> {
  const world = await startWorld({ seed, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false } })
  dirs.push(world.dir)
  await trade(world, { orders: 16, tag: 'a', seed })
  const a = await takeSnapshot(world.gateway.engine, store(world.dir), { nowMs: T0 })
  await trade(world, { orders: 16, tag: 'b', seed: seed + 1 })
  const b = await takeSnapshot(world.gateway.engine, store(world.dir), { nowMs: T0 + 1 })
  if (a === null || b === null) throw new Error('expected two snapshots')
  await crashWorld(world)
  const dir = tempDataDir()
  dirs.push(dir)
  cpSync(world.dir, dir, { recursive: true })
  const logDir = join(dir, 'log')
  const after = readdirSync(logDir).filter((name) => (parseSegmentName(name) ?? 0) > a.lsn + 1).sort()
  expect(after.length).toBeGreaterThan(1)
  renameSync(join(logDir, after[0] as string), join(logDir, `lost-${after[0]}`))
  for (const name of after.slice(1)) unlinkSync(join(logDir, name))
  const wal = Wal.open(logDir, WAL)
  const lastLsn = wal.lastLsn
  await wal.close()
  expect(lastLsn).toBeGreaterThanOrEqual(a.lsn)
  expect(lastLsn).toBeLessThan(b.lsn)
  return { dir, lsnA: a.lsn, lsnB: b.lsn, lastLsn }
}

function restoreCode(dir: string, load: boolean): string {
  const wal = Wal.open(join(dir, 'log'), WAL)
  try {
    restoreEngine(wal, store(dir), { load })
    return 'started'
  } catch (error) {
    return error instanceof RestoreError ? error.code : `untyped ${String(error)}`
  } finally {
    void wal.close()
  }
}

describe('an intact snapshot beyond the end of the log', () => {
  test('refuses the restart (the log lost durable records), with or without snapshot loading; a damaged file named so does not', async () => {
    const lost = await logLostTail(91)
    expect(restoreCode(lost.dir, true)).toBe('LOG_BEHIND_SNAPSHOT')
    expect(restoreCode(lost.dir, false)).toBe('LOG_BEHIND_SNAPSHOT')
    // The gateway refuses to start, naming the snapshot; it never appends at LSNs the lost records held.
    await expect(startWorld({ seed: 91, dir: lost.dir })).rejects.toThrow(`LOG_BEHIND_SNAPSHOT: snapshot ${snapshotFileName(lost.lsnB)} is intact`)
    const wal = Wal.open(join(lost.dir, 'log'), WAL)
    expect(wal.lastLsn).toBe(lost.lastLsn)
    await wal.close()

    // The snapshot moved aside (the operator's call): the restart uses A and replays the rest of the log.
    renameSync(join(lost.dir, 'snapshots', snapshotFileName(lost.lsnB)), join(lost.dir, `aside-${snapshotFileName(lost.lsnB)}`))
    writeFileSync(join(lost.dir, 'snapshots', 'MANIFEST.json'), '{}')
    expect(restoreCode(lost.dir, true)).toBe('started')
    // A file named beyond the log that is not an intact snapshot proves nothing: reported by the load, not a refusal.
    writeFileSync(join(lost.dir, 'snapshots', snapshotFileName(lost.lastLsn + 1000)), 'not a snapshot')
    expect(restoreCode(lost.dir, true)).toBe('started')
  })
})

/** Every file of the data dir with its bytes, to show an offline command changed nothing. */
function contents(dir: string): Map<string, string> {
  const files = new Map<string, string>()
  for (const sub of ['log', 'snapshots']) {
    // LOCK names the last opener (pid, time), not the log's content.
    for (const name of readdirSync(join(dir, sub)).sort()) if (name !== 'LOCK') files.set(`${sub}/${name}`, readFileSync(join(dir, sub, name)).toString('base64'))
  }
  return files
}

describe('the offline commands refuse a snapshot beyond the end of the log as a start does', () => {
  // Was: egress snapshot passed B over (its chain head cannot be checked), rebuilt from A and wrote a snapshot of the
  // shortened log; egress compact compacted below A, removing segments of a log no gateway may start from. Both exit 0.
  test('egress snapshot and egress compact exit non-zero with LOG_BEHIND_SNAPSHOT and change nothing', async () => {
    const lost = await logLostTail(92)
    const before = contents(lost.dir)
    for (const argv of [['snapshot', lost.dir], ['compact', lost.dir, '--delete'], ['compact', lost.dir, '--dry-run']]) {
      const io = recordingIo({})
      const code = await runCli(argv, io)
      expect({ argv, code }).toEqual({ argv, code: 1 })
      expect(io.stderr.join('\n')).toContain(`egress ${argv[0]}: LOG_BEHIND_SNAPSHOT: snapshot ${snapshotFileName(lost.lsnB)} is intact and at LSN ${lost.lsnB}, the log ends at ${lost.lastLsn}`)
      expect(io.stdout).toEqual([])
    }
    expect(contents(lost.dir)).toEqual(before)
  })
})
