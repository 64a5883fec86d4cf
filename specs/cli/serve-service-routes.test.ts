/**
 * `egress serve` wires config auth.protectServiceRoutes and auth.scrapeTokenFile (src/cli/serve.ts): a scrape token
 * file that cannot be read exits 1 naming the field, with nothing written in the data dir; a good one guards
 * /metrics (the scrape token admits, no token is 401) while /health answers a probe its summary.
 */

import { afterAll, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-service-routes-'))
const SCRAPE_TOKEN = 'serve-scrape-token-0123456789abcdefghijklmnop'

afterAll(() => rmSync(dir, { recursive: true, force: true }))

function serve(name: string, port: number, scrapeTokenFile: string) {
  const configPath = join(dir, `${name}.json`)
  writeFileSync(configPath, JSON.stringify({ dataDir: join(dir, name), port, wal: { durability: 'none' }, auth: { protectServiceRoutes: true, scrapeTokenFile } }))
  return Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--config', configPath], { cwd: ROOT, env: { ...process.env, EGRESS_CONFIG: '' }, stdout: 'ignore', stderr: 'pipe' })
}

test('a scrape token file that cannot be read exits 1 naming auth.scrapeTokenFile, writing nothing', async () => {
  const child = serve('missing', await freePort(), join(dir, 'no-such.token'))
  try {
    const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])
    expect(code).toBe(1)
    expect(await new Response(child.stderr as ReadableStream).text()).toContain('auth.scrapeTokenFile: cannot read')
    expect(existsSync(join(dir, 'missing')) ? readdirSync(join(dir, 'missing')) : []).toEqual([])
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 30_000)

test('a good one: /metrics takes the scrape token, refuses no token; /health answers a probe its summary', async () => {
  const tokenPath = join(dir, 'scrape.token')
  writeFileSync(tokenPath, `${SCRAPE_TOKEN}\n`)
  const port = await freePort()
  const child = serve('good', port, tokenPath)
  const base = `http://127.0.0.1:${port}`
  try {
    await waitFor('serve to answer /health/live', 20_000, async () => (await fetch(`${base}/health/live`)).ok)
    await waitFor('serve to be ready', 20_000, async () => (await fetch(`${base}/health`)).status === 200)
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ live: true, ready: true, draining: false, role: 'leader' })
    expect((await fetch(`${base}/metrics`)).status).toBe(401)
    expect((await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${SCRAPE_TOKEN}` } })).status).toBe(200)
    expect(await (await fetch(`${base}/health`, { headers: { Authorization: `Bearer ${SCRAPE_TOKEN}` } })).json()).toHaveProperty('config_digest')
    child.kill('SIGTERM')
    expect(await child.exited).toBe(0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 60_000)
