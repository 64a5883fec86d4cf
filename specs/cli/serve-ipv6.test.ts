/**
 * `egress serve` on an IPv6 host (EGRESS_HOST=::1): the URL it prints — the "listening on" line, the paper banner's
 * commands, and an HA node's default advertise URL, built the same way — brackets the address. It printed
 * http://::1:PORT, which is not a URL: the banner's curl commands failed, and an HA pair could not reach the node.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { httpUrlOf } from '../../src/cli/serve-gateway.ts'
import { freePort } from '../../scripts/support/loopback.ts'
import { bannerOf } from './serve-banner.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-ipv6-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('httpUrlOf brackets an IPv6 address and leaves names and IPv4 addresses alone', () => {
  expect(httpUrlOf('::1', 8080)).toBe('http://[::1]:8080')
  expect(new URL(httpUrlOf('fe80::1', 1)).port).toBe('1')
  expect(httpUrlOf('127.0.0.1', 8080)).toBe('http://127.0.0.1:8080')
  // Configured with its brackets (EGRESS_HOST='[::1]', which Bun.serve binds): not bracketed twice.
  expect(httpUrlOf('[::1]', 8080)).toBe('http://[::1]:8080')
  expect(new URL(httpUrlOf('[fe80::1]', 1)).port).toBe('1')
  expect(httpUrlOf('gw.example', 80)).toBe('http://gw.example:80')
})

test('serve on ::1 prints a URL that reaches it', async () => {
  const port = await freePort()
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dir, EGRESS_HOST: '::1', PORT: String(port), EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'pipe',
    stderr: 'ignore',
  })
  try {
    const banner = await bannerOf(child)
    const url = /paper mode at (\S+) /.exec(banner)?.[1] ?? ''
    expect(url).toBe(`http://[::1]:${port}`)
    expect((await fetch(`${url}/health/live`)).status).toBe(200)
  } finally {
    child.kill('SIGTERM')
    await child.exited
  }
}, 30_000)
