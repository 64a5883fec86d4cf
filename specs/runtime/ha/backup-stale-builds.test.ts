/**
 * `egress backup` killed (kill -9) leaves its build directory beside DIR (`.DIR.backup-partial-<pid>-<ms>`); the next
 * run to the same DIR removes it, and those of earlier versions (no lock file), but never the build of a run still
 * writing (src/runtime/backup/stale-builds.ts: each run holds an flock on `<build>.lock`). They were left forever, one
 * copy of a leader's data each (ops review).
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { BackupError, takeBackup } from '../../../src/runtime/backup/index.ts'
import { nothingLeft, outDir } from './backup-support.ts'
import { TOKEN } from './support.ts'

const ROOT = resolve(import.meta.dir, '../../..')
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A source whose log ends at LSN 5 and whose snapshot route never answers (`stall`) or answers 500. */
function source(snapshot: 'stall' | 'fail'): string {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    fetch(request) {
      const path = new URL(request.url).pathname
      if (path === '/replication/hash') return Response.json({ lsn: 0, hash: '00'.repeat(32), last_lsn: 5 })
      if (path === '/replication/snapshot' && snapshot === 'stall') return new Promise<Response>(() => {})
      return new Response('not here', { status: 500 })
    },
  })
  cleanups.push(() => server.stop(true))
  return `http://127.0.0.1:${server.port}`
}

/** A backup run in-process that fails at the source's snapshot: what it logged. */
async function failingRun(out: string): Promise<string[]> {
  const lines: string[] = []
  const failure = await takeBackup({
    fromUrl: source('fail'), out, token: TOKEN, toLsn: null, wholeLog: false, timeoutMs: 10_000, snapshotBytesMax: 1024 * 1024, envelopeBytesMax: 1024 * 1024,
    log: (line) => lines.push(line),
  }).then(() => null, (error: unknown) => error)
  expect((failure as BackupError).code).toBe('BACKUP_SOURCE_FAILED')
  return lines
}

/** `egress backup` in a child process, stalled at the source's snapshot once its build directory exists. */
async function liveRun(out: string, parent: string): Promise<{ child: Bun.Subprocess; build: string }> {
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'backup', '--from', source('stall'), '--out', out], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_REPLICATION_TOKEN: TOKEN },
    stdout: 'ignore',
    stderr: 'ignore',
  })
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  })
  const deadline = Date.now() + 15_000
  for (;;) {
    const build = readdirSync(parent).find((name) => /^\.backup\.backup-partial-\d+-\d+$/.test(name))
    if (build !== undefined) return { child, build }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the backup run made no build directory')
    await Bun.sleep(20)
  }
}

test('a run killed leaves its build; the next run removes it and an older version\'s, never a live run\'s', async () => {
  const { parent, out } = outDir(cleanups)
  const live = await liveRun(out, parent)
  // An earlier version's leftover: no lock file. And another DIR's build, which is not this backup's business.
  mkdirSync(join(parent, '.backup.backup-partial-1-2', 'log'), { recursive: true })
  writeFileSync(join(parent, '.backup.backup-partial-1-2', 'log', '00000000000000000001.seg'), 'x'.repeat(4096))
  mkdirSync(join(parent, '.other.backup-partial-3-4'))
  const whileLive = await failingRun(out)
  expect(readdirSync(parent).sort()).toEqual([live.build, `${live.build}.lock`, '.other.backup-partial-3-4'].sort())
  expect(whileLive).toContain(`backup: removed ${join(parent, '.backup.backup-partial-1-2')}, left by an earlier backup run that did not finish`)
  expect(whileLive).toContain(`backup: left ${join(parent, live.build)}: another backup run is still writing it`)

  live.child.kill('SIGKILL')
  await live.child.exited
  expect(existsSync(join(parent, live.build))).toBe(true)
  const afterKill = await failingRun(out)
  expect(afterKill).toContain(`backup: removed ${join(parent, live.build)}, left by an earlier backup run that did not finish`)
  expect(readdirSync(parent)).toEqual(['.other.backup-partial-3-4'])
}, 30_000)

test('a run that fails or is published leaves no lock file beside DIR', async () => {
  const { parent, out } = outDir(cleanups)
  await failingRun(out)
  nothingLeft(parent)
})

test("a link named as a build's lock file is left as it is: no file it points to outside DIR's parent is written or made", async () => {
  const { parent, out } = outDir(cleanups)
  const { parent: elsewhere } = outDir(cleanups)
  // Anyone who may write in DIR's parent (a shared backup volume): a link to a file of the operator's, and one to none.
  const victim = join(elsewhere, 'precious')
  writeFileSync(victim, 'precious\n')
  symlinkSync(victim, join(parent, '.backup.backup-partial-1-2.lock'))
  symlinkSync(join(elsewhere, 'made'), join(parent, '.backup.backup-partial-3-4.lock'))
  const lines = await failingRun(out)
  // Were: the lock's open followed the links: the victim truncated to the run's holder line, `made` created.
  expect(readFileSync(victim, 'utf8')).toBe('precious\n')
  expect(readdirSync(elsewhere)).toEqual(['precious'])
  expect(lines.some((line) => line.startsWith(`backup: left ${join(parent, '.backup.backup-partial-1-2')}: cannot tell whether a run still writes it`))).toBe(true)
  expect(readdirSync(parent).sort()).toEqual(['.backup.backup-partial-1-2.lock', '.backup.backup-partial-3-4.lock'])
})
