/**
 * A FIFO under a snapshot's name, or as the manifest, in a data dir's snapshots/ (files on disk are input from
 * outside). Reading it opened it blocking (wal/io.ts openRead), waiting for a writer that never came: replay-verify
 * and a start hung for good, and a running gateway's next snapshot held its event loop there. It now opens at once,
 * reads as empty, and is what it poses as, damaged: a snapshot refused (TRUNCATED), a manifest unreadable (the
 * directory listed instead). The commands run in a child first, so a regression fails instead of hanging the run.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { MANIFEST_NAME, snapshotFileName } from '../../../src/runtime/snapshot/index.ts'
import { crashWorld, removeDir, startWorld } from '../harness.ts'
import { tradedWorld } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

function mkfifo(path: string): void {
  expect(Bun.spawnSync(['mkfifo', path]).exitCode).toBe(0)
}

/** `egress replay-verify DIR --json` in a child, killed after 20 s: its exit code (null when killed) and report. */
function replayVerifyChild(dir: string): { code: number | null; report: { ok: boolean; snapshots: { file: string; status: string; problem: string | null }[] } | null } {
  const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'replay-verify', dir, '--json'], { timeout: 20_000, stdout: 'pipe', stderr: 'pipe' })
  const out = child.stdout.toString()
  return { code: child.exitCode, report: out.trim() === '' ? null : JSON.parse(out) }
}

describe('a FIFO in the snapshot directory', () => {
  test('under a snapshot\'s name it is a damaged snapshot (TRUNCATED); replay-verify and a start go on', async () => {
    const world = await tradedWorld(5701, 12)
    dirs.push(world.dir)
    const taken = await world.gateway.snapshot()
    expect(taken).not.toBeNull()
    await crashWorld(world)
    const fifo = snapshotFileName((taken?.lsn ?? 0) + 1_000_000)
    mkfifo(join(world.dir, 'snapshots', fifo))

    const verified = replayVerifyChild(world.dir)
    expect(verified.code).toBe(65)
    expect(verified.report?.snapshots).toContainEqual(expect.objectContaining({ file: fifo, status: 'invalid', problem: expect.stringContaining('TRUNCATED') }))
    expect(verified.report?.snapshots).toContainEqual(expect.objectContaining({ file: taken?.file, status: 'match' }))

    // In-process only once the child came back: the start uses the snapshot it wrote, the FIFO reported.
    const restarted = await startWorld({ seed: 5701, dir: world.dir, clock: world.clock, venue: world.venue })
    try {
      expect(restarted.gateway.restoreReport?.snapshot?.lsn).toBe(taken?.lsn)
      expect(restarted.gateway.restoreReport?.rejected).toContainEqual(expect.objectContaining({ file: fifo, code: 'TRUNCATED' }))
    } finally {
      await crashWorld(restarted)
    }
  }, 60_000)

  test('as the manifest it is an unreadable one: the snapshots are found by listing the directory', async () => {
    const world = await tradedWorld(5702, 12)
    dirs.push(world.dir)
    const taken = await world.gateway.snapshot()
    expect(taken).not.toBeNull()
    await crashWorld(world)
    rmSync(join(world.dir, 'snapshots', MANIFEST_NAME))
    mkfifo(join(world.dir, 'snapshots', MANIFEST_NAME))

    const verified = replayVerifyChild(world.dir)
    expect(verified.code).toBe(0)
    expect(verified.report?.snapshots).toEqual([expect.objectContaining({ file: taken?.file, status: 'match' })])

    const restarted = await startWorld({ seed: 5702, dir: world.dir, clock: world.clock, venue: world.venue })
    try {
      expect(restarted.gateway.restoreReport?.snapshot?.lsn).toBe(taken?.lsn)
    } finally {
      await crashWorld(restarted)
    }
  }, 60_000)
})
