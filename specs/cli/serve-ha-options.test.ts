/**
 * `egress serve` with an HA-only option (--sync-replication, --node-id, …) but no --lease-dir: a usage error, exit 2.
 * Such options were ignored, so `serve --sync-replication fail_closed` started a single node that answered 202 with
 * nothing replicated, and the operator who asked for it was never told.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-ha-options-'))

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
