/**
 * Two `egress serve` on one data directory (a second start by mistake, or a restart while the last is still stopping):
 * both replayed the log and both wrote to it, each answering 202s, and the interleaved frames left a log that no
 * longer opened (FRAME_CORRUPT) — every acknowledged order behind the damage lost to the restart. The second now
 * exits 1 before it writes anything (wal/dir-lock.ts), the first serves on, and the log opens.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { generateSealKeyPair } from '../../src/audit/key-pair.ts'
import { mintHs256Token } from '../../src/http/auth/index.ts'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'
import { openReadOnly } from '../../wal/index.ts'

const ROOT = resolve(import.meta.dir, '../..')
const SECRET = 'serve-one-writer-secret-0123456789abcdef'
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-one-writer-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

function serve(port: number): Bun.Subprocess<'ignore', 'ignore', 'pipe'> {
  return Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dir, PORT: String(port), EGRESS_WAL_DURABILITY: 'none', EGRESS_HS256_SECRET: SECRET },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
}

test('a second serve on the same data directory exits 1 naming the first; the first serves on and the log opens', async () => {
  const [firstPort, secondPort] = [await freePort(), await freePort()]
  const first = serve(firstPort)
  try {
    await waitFor('the first serve to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${firstPort}/health/live`)).ok)
    const token = await mintHs256Token(SECRET, { sub: 'alice', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
    const place = (key: string): Promise<Response> =>
      fetch(`http://127.0.0.1:${firstPort}/v1/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }),
      })
    expect((await place('before')).status).toBe(202)

    const second = serve(secondPort)
    const code = await Promise.race([second.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])
    const stderr = await new Response(second.stderr).text()
    expect(code).toBe(1)
    expect(stderr).toContain('is open in another process')
    expect(stderr).toContain(`pid ${first.pid}`)
    // Its last line, the one `egress serve:` prints, starts with the code and ends with the way out (before: neither).
    const last = stderr.trimEnd().split('\n').at(-1) ?? ''
    expect(last).toStartWith('egress serve: LOG_LOCKED: the log in ')
    expect(last).toContain(`Another egress is running on the data directory ${dir}: stop it first (Ctrl-C in its terminal, or kill ${first.pid})`)
    expect(last).toEndWith(`or start this one on a directory and port of its own (EGRESS_DATA_DIR=./data-2 PORT=${secondPort + 1})`)

    expect((await place('after')).status).toBe(202)
  } finally {
    first.kill('SIGTERM')
    await first.exited
  }
  // Opens with no damage: every record either serve wrote is one the first wrote.
  const log = openReadOnly(join(dir, 'log'))
  expect(log.lastLsn).toBeGreaterThan(0)

}, 60_000)

test('a second serve writes nothing in the data directory it is refused: no secrets, no local seal key', async () => {
  // Review: it resolved its secrets and a local seal key before the log refused it, writing them into the live dir;
  // verify then took that stray key for the dir's own (a false tamper finding).
  const ownDir = mkdtempSync(join(tmpdir(), 'egress-serve-one-writer-keys-'))
  try {
    const pair = await generateSealKeyPair()
    const keyFile = join(ownDir, 'seal.private.jwk.json')
    writeFileSync(keyFile, JSON.stringify(pair.privateJwk), { mode: 0o600 })
    const configFile = join(ownDir, 'egress.json')
    writeFileSync(configFile, JSON.stringify({ audit: { signingKeyFile: keyFile } }))
    const dataDir = join(ownDir, 'data')
    const env = { ...process.env, EGRESS_DATA_DIR: dataDir, EGRESS_WAL_DURABILITY: 'none' }
    const port = await freePort()
    const first = Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--config', configFile], { cwd: ROOT, env: { ...env, PORT: String(port) }, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
    try {
      await waitFor('the first serve to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok)
      const before = filesUnder(dataDir)
      const second = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], { cwd: ROOT, env: { ...env, PORT: String(await freePort()) }, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
      expect(await Promise.race([second.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])).toBe(1)
      expect((await new Response(second.stderr).text()).trimEnd().split('\n').at(-1)).toStartWith('egress serve: LOG_LOCKED:')
      expect(filesUnder(dataDir)).toEqual(before)
    } finally {
      first.kill('SIGTERM')
      await first.exited
    }
  } finally {
    rmSync(ownDir, { recursive: true, force: true })
  }
}, 60_000)

/** Every file under `dir` (relative paths, sorted). */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((path) => statSync(join(dir, path)).isFile()).sort()
}
