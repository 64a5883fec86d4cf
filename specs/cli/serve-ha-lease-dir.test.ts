/**
 * `egress serve --lease-dir DIR` where DIR can never be the lease directory (under a file, a symbolic link loop or to
 * nowhere, or under one to nowhere: only DIR itself was looked at, and the lease's mkdir failed a bare ENOENT, exit 1), or `--venue jsonl://HOST:PORT` with a port out of range: a usage error, exit 2, before anything is written.
 * Only a file at DIR was refused so: the others passed the check (existsSync said false), and the node took the data
 * dir's lock and wrote its HS256 secret before the lease's mkdir failed (NOT_A_DIRECTORY, exit 1); a venue port of
 * 99999 took the lease and wrote the data dir, then failed ten seconds later (review).
 */

import { afterAll, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'
import { runCli } from '../../src/cli/index.ts'
import { recordingIo } from './io.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-ha-lease-dir-'))
const TOKEN = { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }
writeFileSync(join(dir, 'a-file'), '')
symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'))
symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'))
symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

test.each([
  [['--lease-dir', join(dir, 'a-file', 'lease')], `--lease-dir ${join(dir, 'a-file', 'lease')}: a path under a file`],
  [['--lease-dir', join(dir, 'loop-a')], `--lease-dir ${join(dir, 'loop-a')}: a symbolic link loop (ELOOP)`],
  [['--lease-dir', join(dir, 'dangling')], `--lease-dir ${join(dir, 'dangling')}: a symbolic link to ${JSON.stringify(join(dir, 'nowhere'))}, which does not exist`],
  [['--lease-dir', join(dir, 'dangling', 'a', 'lease')], `--lease-dir ${join(dir, 'dangling', 'a', 'lease')}: under ${JSON.stringify(join(dir, 'dangling'))}, a symbolic link to ${JSON.stringify(join(dir, 'nowhere'))}, which does not exist`],
  [['--lease-dir', dir, '--venue', 'jsonl://127.0.0.1:99999'], '--venue: expected a port between 1 and 65535, got "jsonl://127.0.0.1:99999"'],
  [['--lease-dir', dir, '--venue', 'jsonl://127.0.0.1:0'], '--venue: expected a port between 1 and 65535, got "jsonl://127.0.0.1:0"'],
])('serve %p: exit 2 naming the option, whatever the config holds', async (options, message) => {
  const io = recordingIo(TOKEN)
  const code = await runCli(['serve', '--config', join(dir, 'missing-config.json'), ...options], io)
  expect({ code, err: io.stderr.join('\n') }).toEqual({ code: 2, err: `egress serve: ${message} (see "egress serve --help")` })
})

test('a lease dir under a file: refused before the data dir is made or written', async () => {
  const dataDir = join(dir, 'data')
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--lease-dir', join(dir, 'a-file', 'lease')], {
    cwd: ROOT,
    env: { ...process.env, ...TOKEN, EGRESS_DATA_DIR: dataDir, PORT: String(await freePort()), EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  try {
    const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])
    const stderr = await new Response(child.stderr as ReadableStream).text()
    expect({ code, stderr: stderr.trim(), dataDirMade: existsSync(dataDir) }).toEqual({
      code: 2,
      stderr: `egress serve: --lease-dir ${join(dir, 'a-file', 'lease')}: a path under a file (see "egress serve --help")`,
      dataDirMade: false,
    })
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 30_000)
