/**
 * A backup records where it ends (DIR/BACKUP.json, src/runtime/backup/manifest.ts), and `egress replay-verify` holds
 * the copy to it. A copy of the backup cut short — cut at a frame boundary, or inside its last frame —
 * is a log that ends early with its chain intact: with nothing to compare with, replay-verify said MATCH (exit 0), and
 * `egress audit verify`, which did not read the manifest, said CLEAN (exit 0) after replay-verify had learnt to.
 */

import { afterEach, expect, test } from 'bun:test'
import { cpSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { crashCopyAt, removeDir } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { runCli } from '../../../src/cli/index.ts'
import { recordingIo } from '../../cli/io.ts'
import { backup, outDir, replayVerify } from './backup-support.ts'
import { compactingLeader } from './compacting-leader.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const segmentsOf = (dir: string): string[] => readdirSync(join(dir, 'log')).filter((name) => name.endsWith('.seg')).sort()


test('a copy of a backup cut short fails replay-verify (BACKUP_TRUNCATED), as does another log under its manifest; the backup itself passes', async () => {
  const { world, url } = await compactingLeader(81, cleanups)
  await trade(world, { orders: 6, tag: 'b', seed: 81 })
  const { parent, out } = outDir(cleanups)
  const run = await backup(['--from', url, '--out', out, '--whole-log'])
  if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
  const lastLsn = (run.result as { lastLsn: number }).lastLsn
  expect((await replayVerify(out)).code).toBe(0)

  // The copy stopped at a frame boundary, a few records before the end: the chain holds up to there.
  const cut = crashCopyAt(out, lastLsn - 3)
  cleanups.push(() => removeDir(cut))
  const shortByFrames = await replayVerify(cut)
  expect(shortByFrames.code).toBe(65)
  expect(shortByFrames.out).toContain('DIFFERENCES FOUND')
  expect(shortByFrames.out).toMatch(new RegExp(`PROBLEM {4}BACKUP_TRUNCATED: the log ends at LSN \\d+, the backup \\(.*BACKUP\\.json\\) was taken through LSN ${lastLsn}`))

  // The copy stopped inside the last segment's last frame (a torn tail, on its own not an error).
  const torn = join(parent, 'torn')
  cpSync(out, torn, { recursive: true })
  const last = join(torn, 'log', segmentsOf(torn).at(-1) as string)
  truncateSync(last, statSync(last).size - 10)
  const shortByBytes = await replayVerify(torn)
  expect(shortByBytes.code).toBe(65)
  expect(shortByBytes.out).toContain(`BACKUP_TRUNCATED: the log ends at LSN ${lastLsn - 1}`)

  // Another log under the backup's manifest: the head at its end differs.
  const foreign = join(parent, 'foreign')
  cpSync(out, foreign, { recursive: true })
  const manifest = JSON.parse(readFileSync(join(foreign, 'BACKUP.json'), 'utf8')) as { chainHead: string }
  writeFileSync(join(foreign, 'BACKUP.json'), JSON.stringify({ ...manifest, chainHead: '00'.repeat(32) }))
  expect((await replayVerify(foreign)).out).toContain(`BACKUP_HEAD_MISMATCH: the log's chain head at LSN ${lastLsn} is`)
}, 60_000)

async function auditVerify(dir: string): Promise<{ code: number; out: string }> {
  const io = recordingIo({})
  const code = await runCli(['audit', 'verify', dir, '--no-signatures'], io)
  return { code, out: io.stdout.join('\n') }
}

test('audit verify holds a backup to its manifest as replay-verify does: cut short or another log, not CLEAN, exit 65, naming the problem', async () => {
  const { world, url } = await compactingLeader(82, cleanups)
  await trade(world, { orders: 6, tag: 'a', seed: 82 })
  const { parent, out } = outDir(cleanups)
  const run = await backup(['--from', url, '--out', out])
  if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
  const lastLsn = (run.result as { lastLsn: number }).lastLsn
  const whole = await auditVerify(out)
  expect({ code: whole.code, first: whole.out.split('\n')[0] }).toEqual({ code: 0, first: `CLEAN: ${join(out, 'log')}` })

  // The last segment cut inside its last frame: a torn tail, on its own "not an error".
  const torn = join(parent, 'torn')
  cpSync(out, torn, { recursive: true })
  const last = join(torn, 'log', segmentsOf(torn).at(-1) as string)
  truncateSync(last, statSync(last).size - 10)
  const shortByBytes = await auditVerify(torn)
  expect(shortByBytes.code).toBe(65)
  expect(shortByBytes.out).toStartWith('PROBLEMS FOUND: ')
  expect(shortByBytes.out).toContain(`BACKUP_TRUNCATED at ${join(torn, 'BACKUP.json')} offset 0 (LSN ${lastLsn}): the log ends at LSN ${lastLsn - 1}, the backup`)

  // Cut at a frame boundary: the chain holds up to there.
  const cut = crashCopyAt(out, lastLsn - 3)
  cleanups.push(() => removeDir(cut))
  const shortByFrames = await auditVerify(cut)
  expect(shortByFrames.code).toBe(65)
  expect(shortByFrames.out).toMatch(new RegExp(`BACKUP_TRUNCATED at .*BACKUP\\.json offset 0 \\(LSN ${lastLsn}\\): the log ends at LSN \\d+`))

  const foreign = join(parent, 'foreign')
  cpSync(out, foreign, { recursive: true })
  const manifest = JSON.parse(readFileSync(join(foreign, 'BACKUP.json'), 'utf8')) as { chainHead: string }
  writeFileSync(join(foreign, 'BACKUP.json'), JSON.stringify({ ...manifest, chainHead: '00'.repeat(32) }))
  const mismatch = await auditVerify(foreign)
  expect(mismatch.code).toBe(65)
  expect(mismatch.out).toContain(`BACKUP_HEAD_MISMATCH at ${join(foreign, 'BACKUP.json')} offset 0 (LSN ${lastLsn}): the log's chain head at LSN ${lastLsn} is`)
}, 60_000)
