/**
 * A paper gateway given its HS256 secret in EGRESS_HS256_SECRET: the banner's token command, pasted as printed in a
 * second terminal, read no such variable there, made a secret of its own in the data directory and minted a token the
 * gateway refused (401, bad_signature), the banner not saying why. Found by the s61 binary walkthrough. The banner now
 * names the variable (never its value), and the command run with it set, as the banner says, mints a token the
 * gateway takes.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'
import { BANNER_END, bannerOf } from './serve-banner.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-banner-secret-env-'))
const SECRET = 'spec-secret-from-the-environment-0123456789'
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The banner's lines from the one starting `title` through its command (the first indented line after it). */
function sectionOf(banner: string, title: string): { text: string; command: string } {
  const lines = banner.split('\n')
  const start = lines.findIndex((line) => line.startsWith(title))
  const commandAt = lines.findIndex((line, index) => index > start && line.startsWith('  '))
  if (start < 0 || commandAt < 0) throw new Error(`no "${title}" command in the banner:\n${banner}`)
  return { text: lines.slice(start, commandAt).join(' '), command: (lines[commandAt] as string).slice(2) }
}

async function shell(script: string, env: Record<string, string>): Promise<string> {
  const child = Bun.spawn(['bash', '-c', script], { cwd: ROOT, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (code !== 0) throw new Error(`exit ${code}: ${err}`)
  return out
}

test('a secret from EGRESS_HS256_SECRET: the banner names the variable for the token command, and so run its token is accepted', async () => {
  const port = await freePort()
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: join(dir, 'data'), PORT: String(port), EGRESS_MODE: 'paper', EGRESS_WAL_DURABILITY: 'none', EGRESS_HS256_SECRET: SECRET },
    stdout: 'pipe',
    stderr: 'ignore',
  })
  try {
    const banner = await bannerOf(child, Date.now() + 20_000)
    if (!banner.includes(BANNER_END)) throw new Error(`no whole banner within 20 s:\n${banner}`)
    expect(banner).not.toContain(SECRET)
    const { text, command } = sectionOf(banner, 'Get a token')
    expect(text).toContain('EGRESS_HS256_SECRET')

    // The second terminal, as the banner says: this directory, the variable set to the gateway's value.
    const tokenLine = command.replace(/\bnpx bun\b/, process.execPath)
    const token = (await shell(`${tokenLine}\necho "$TOKEN"`, { EGRESS_HS256_SECRET: SECRET })).trim()
    const answer = await fetch(`http://127.0.0.1:${port}/v1/orders?account=demo-1`, { headers: { Authorization: `Bearer ${token}` } })
    expect(answer.status).toBe(200)
  } finally {
    child.kill('SIGTERM')
    await child.exited
  }
}, 60_000)
