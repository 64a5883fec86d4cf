/**
 * `egress serve` answers an oversized body in the one error shape, whatever its declared size. Bun.serve refuses a
 * body over its own `maxRequestBodySize` before the app runs, with a bare 413 and no body; serve set that bound to
 * 4 × bodyBytesMax (64 KiB), so a 100 KB order got an empty 413 while a 20 KB one got PAYLOAD_TOO_LARGE.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
let dir: string
let child: ReturnType<typeof Bun.spawn>
let base: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'egress-serve-body-'))
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dir, PORT: String(port), EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'ignore',
    stderr: 'ignore',
  })
  await waitFor('serve to answer /health', 20_000, async () => (await fetch(`${base}/health/live`)).ok)
})
afterAll(async () => {
  // SIGKILL: shutdown is not what this spec is about, and the data directory is thrown away.
  child.kill('SIGKILL')
  await child.exited
  rmSync(dir, { recursive: true, force: true })
})

for (const bytes of [20_000, 100_000, 4_000_000]) {
  test(`a ${bytes}-byte body with its Content-Length is 413 PAYLOAD_TOO_LARGE in the error shape`, async () => {
    const res = await fetch(`${base}/v1/orders`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'a'.repeat(bytes) })
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE')
  })
}
