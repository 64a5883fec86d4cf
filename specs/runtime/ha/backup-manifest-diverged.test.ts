/**
 * A backup's manifest (DIR/BACKUP.json, src/runtime/backup/manifest.ts) describes the log the backup wrote. A backup
 * started as a standby of the pair (egress backup --help) follows from where the copy ends, and may diverge from a new
 * leader that never had the copy's last records: the node sets its records beyond the shared LSN aside (divergence.ts)
 * and follows the leader, whose records then fill those LSNs. The manifest stayed behind, naming an end the log no
 * longer holds: replay-verify of that healthy data dir failed for good (BACKUP_TRUNCATED, then BACKUP_HEAD_MISMATCH).
 * The manifest now goes aside with the records it vouched for; one whose end the kept log still holds stays.
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Wal } from '../../../wal/index.ts'
import { backupManifestProblem, BACKUP_MANIFEST_FILE } from '../../../src/runtime/backup/index.ts'
import { writeBackupManifest } from '../../../src/runtime/backup/manifest.ts'
import { setDivergedLogAside, setDivergedTailAside, type DiscardedFrames } from '../../../src/runtime/ha/divergence.ts'
import { record, removeTempDirs, tempDir } from '../../wal/support.ts'

afterEach(() => removeTempDirs())

const WAL = { segmentBytesMax: 4096, durability: 'none', preallocateBytes: 0 } as const
const NOTHING_BEYOND: DiscardedFrames = { count: 0, lastLsn: 0, epochs: [], epochCount: 0, examples: [] }

/** A stopped backup data dir: `lastLsn` records of `tag`, and its manifest naming that end. */
async function backupDir(lastLsn: number, tag: string): Promise<string> {
  const dir = tempDir()
  await appendRecords(dir, 1, lastLsn, tag)
  const wal = Wal.open(join(dir, 'log'), WAL)
  const chainHead = Buffer.from(wal.chainHead).toString('hex')
  await wal.close()
  writeBackupManifest(dir, { format: 1, source: 'http://127.0.0.1:1', firstLsn: 1, lastLsn, chainHead, snapshot: null })
  return dir
}

/** Appends records `from`..`to` of `tag` (a follower taking its new leader's records). */
async function appendRecords(dir: string, from: number, to: number, tag: string): Promise<void> {
  const wal = Wal.open(join(dir, 'log'), WAL)
  expect(wal.lastLsn).toBe(from - 1)
  for (let lsn = from; lsn <= to; lsn++) await wal.append([record(`${tag} ${lsn}`)])
  await wal.close()
}

const lastLsnOf = (dir: string): number => {
  const wal = Wal.open(join(dir, 'log'), WAL)
  const last = wal.lastLsn
  void wal.close()
  return last
}

test('a backup that diverged keeps its shared log: the manifest naming the records set aside goes aside with them', async () => {
  const dir = await backupDir(40, 'old leader')
  expect(backupManifestProblem(dir, 40)).toBeNull()
  setDivergedTailAside(dir, 25, NOTHING_BEYOND)
  // Following the new leader: its own records at 26..45.
  await appendRecords(dir, 26, 45, 'new leader')
  expect(backupManifestProblem(dir, lastLsnOf(dir))).toBeNull()
  expect(existsSync(join(dir, BACKUP_MANIFEST_FILE))).toBe(false)
  // Kept beside the log it described, not lost.
  expect(readdirSync(dir).filter((name) => name.startsWith('BACKUP.') && name !== BACKUP_MANIFEST_FILE)).toHaveLength(1)
})

test('a backup whose whole log went aside to re-sync from scratch: the manifest goes aside too', async () => {
  const dir = await backupDir(40, 'old leader')
  setDivergedLogAside(dir, 10, NOTHING_BEYOND)
  await appendRecords(dir, 1, 50, 'new leader')
  expect(backupManifestProblem(dir, 50)).toBeNull()
  expect(existsSync(join(dir, BACKUP_MANIFEST_FILE))).toBe(false)
})

test('a divergence after the backup\'s end keeps the manifest: the kept log still holds its end, and it is still checked', async () => {
  const dir = await backupDir(40, 'old leader')
  await appendRecords(dir, 41, 60, 'same leader')
  setDivergedTailAside(dir, 50, NOTHING_BEYOND)
  expect(existsSync(join(dir, BACKUP_MANIFEST_FILE))).toBe(true)
  expect(backupManifestProblem(dir, 50)).toBeNull()
})
