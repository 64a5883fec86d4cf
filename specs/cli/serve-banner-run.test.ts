/**
 * The paper banner's commands, pasted as printed into a shell against the running `egress serve`, do what it says:
 * the token, an order, the same line pasted again (a new order: each paste makes a new key; the banner's fixed key
 * answered the first order again, found by the s55 newcomer walkthrough on a restarted ./data), and an order that rests
 * then its cancel (the banner's cancel named an ORDER_ID it never showed how to get).
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'
import { BANNER_END, bannerOf } from './serve-banner.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-banner-run-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The banner's command after `title` (its indented lines, joined), from a line that starts with `title`. */
function commandAfter(banner: string, title: string): string {
  const lines = banner.split('\n')
  const start = lines.findIndex((line) => line.startsWith(title))
  if (start < 0) throw new Error(`no "${title}" in the banner:\n${banner}`)
  const command: string[] = []
  for (let index = start + 1; index < lines.length; index++) {
    const line = lines[index] as string
    if (!line.startsWith('  ')) {
      if (command.length > 0) break
      continue
    }
    command.push(line.slice(2))
  }
  return command.join('\n')
}

async function shell(script: string, env: Record<string, string>): Promise<string> {
  const child = Bun.spawn(['bash', '-c', script], { cwd: ROOT, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (code !== 0) throw new Error(`exit ${code}: ${err}`)
  return out
}

test("the banner's token, order (twice) and rest-then-cancel commands work pasted as printed", async () => {
  const port = await freePort()
  const dataDir = join(dir, 'data')
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dataDir, PORT: String(port), EGRESS_MODE: 'paper', EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'pipe',
    stderr: 'ignore',
  })
  try {
    const banner = await bannerOf(child, Date.now() + 20_000)
    if (!banner.includes(BANNER_END)) throw new Error(`no whole banner within 20 s:\n${banner}`)
    // `npx bun` is how a newcomer runs it; the spec's own Bun is the same program.
    const tokenLine = commandAfter(banner, 'Get a token').replace(/\bnpx bun\b/, process.execPath)
    const env = { EGRESS_DATA_DIR: dataDir }
    const token = (await shell(`${tokenLine}\necho "$TOKEN"`, env)).trim()
    expect(token.split('.')).toHaveLength(3)
    const withToken = { ...env, TOKEN: token }
    const place = commandAfter(banner, 'Place an order')
    const first = JSON.parse(await shell(place, withToken)) as { order_id: string }
    await Bun.sleep(1_100) // $(date +%s): a second later, the pasted line is a new key
    const again = JSON.parse(await shell(place, withToken)) as { order_id: string }
    expect(again.order_id).not.toBe(first.order_id)
    const canceled = JSON.parse(await shell(commandAfter(banner, 'Place one below the market'), withToken)) as { state: string; cancel_requested: boolean }
    expect(canceled.cancel_requested).toBe(true)
    expect(['CancelRequested', 'CancelPending', 'Canceled']).toContain(canceled.state)
  } finally {
    child.kill('SIGTERM')
    await child.exited
  }
}, 60_000)
