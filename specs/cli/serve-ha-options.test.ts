/**
 * `egress serve` with an HA-only option (--sync-replication, --node-id, …) but no --lease-dir: a usage error, exit 2.
 * Such options were ignored, so `serve --sync-replication fail_closed` started a single node that answered 202 with
 * nothing replicated, and the operator who asked for it was never told.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'
import { runCli } from '../../src/cli/index.ts'
import { recordingIo } from './io.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-ha-options-'))
writeFileSync(join(dir, 'a-file'), '')

afterAll(() => rmSync(dir, { recursive: true, force: true }))

test.each([
  [['--sync-replication', 'fail_closed'], '--sync-replication'],
  [['--node-id', 'n1', '--lease-ttl-ms', '2000'], '--node-id'],
])('serve %p without --lease-dir exits 2 naming the option', async (options, named) => {
  const port = await freePort()
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve', ...options], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dir, PORT: String(port), EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  try {
    const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still serving after 15 s')])
    expect(code).toBe(2)
    const stderr = await new Response(child.stderr as ReadableStream).text()
    expect(stderr.trim()).toBe(`egress serve: ${named} is for an HA node and needs --lease-dir (see "egress serve --help")`)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 30_000)

/**
 * The HA flags with --lease-dir are checked before the config loads: a usage error is the command line's whatever the
 * config holds. They were checked after it (in runServeHa), so with a config that cannot load the operator was told
 * of the config (exit 1), fixed it, and only then learnt the flags were wrong. Found by the s33 review.
 */
test.each([
  [['--lease-dir', dir, '--role', 'primary'], {}, '--role must be one of auto, leader, standby, got "primary"'],
  [['--lease-dir', dir, '--sync-replication', 'always'], { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }, '--sync-replication must be one of off, fail_closed, degrade_async, got "always"'],
  [['--lease-dir', dir, '--lease-ttl-ms', '5'], { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }, '--lease-ttl-ms: expected an integer between 200 and 600000, got "5"'],
  [['--lease-dir', dir, '--venue', 'tcp://x'], { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }, '--venue must be jsonl://HOST:PORT, got "tcp://x"'],
  [['--lease-dir', dir], {}, 'HA needs EGRESS_REPLICATION_TOKEN (a shared secret of at least 16 characters)'],
  // Review: an empty one took the lease in the working directory; a file failed only after the data dir was written.
  [['--lease-dir', ''], {}, '--lease-dir is empty; give the lease directory shared by the nodes'],
  [['--lease-dir', join(dir, 'a-file')], {}, `--lease-dir ${join(dir, 'a-file')}: a file, not a directory`],
  // Taken as given before: a leader advertising "ftp://x" (or "http://a b", of which the follower took "b") could never
  // be followed; a 200-character node id stopped the node with "ENAMETOOLONG" (the lease's temp file is named after it),
  // one with a line break split every log line naming it.
  [['--lease-dir', dir, '--advertise-url', 'ftp://x'], { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }, '--advertise-url: expected an http:// or https:// URL without spaces, got "ftp://x"'],
  [['--lease-dir', dir, '--advertise-url', 'http://a b'], { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }, '--advertise-url: expected an http:// or https:// URL without spaces, got "http://a b"'],
  // A URL no follower takes from the lease (ha/lease-dir.ts): the leader would never be followed.
  [['--lease-dir', dir, '--advertise-url', 'http://u:p@host-a:8080'], { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }, '--advertise-url: credentials in the URL are refused: the replication token comes from EGRESS_REPLICATION_TOKEN, got "http://u:p@host-a:8080"'],
  [['--lease-dir', dir, '--advertise-url', 'http://host-a:8080/?x=1'], { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }, '--advertise-url: expected a node\'s base URL, without a query or fragment, got "http://host-a:8080/?x=1"'],
  [['--lease-dir', dir, '--node-id', 'n'.repeat(129)], { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }, `--node-id: expected 1 to 128 characters, no control characters, got "${'n'.repeat(40)}"…`],
  [['--lease-dir', dir, '--node-id', 'a\nb'], { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }, '--node-id: expected 1 to 128 characters, no control characters, got "a\\nb"'],
])('serve %p with a config that cannot load: the usage error, exit 2, not the config\'s', async (options, env, message) => {
  const io = recordingIo(env)
  const code = await runCli(['serve', '--config', join(dir, 'missing-config.json'), ...options], io)
  expect({ code, err: io.stderr.join('\n') }).toEqual({ code: 2, err: `egress serve: ${message} (see "egress serve --help")` })
})
