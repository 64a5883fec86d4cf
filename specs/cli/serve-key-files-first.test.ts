/**
 * `egress serve` reads the key files its config names (auth.jwksFile, audit.signingKeyFile) before it writes anything:
 * a missing or bad one exits 1 naming the field, and the data directory is not made. Before (review), the seal key
 * was read inside the gateway's start, once the data dir held a lock file, a log and the secrets (replay-verify then
 * called that dir's empty log a problem), and the JWKS after the secrets were written.
 */

import { afterAll, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-key-files-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test.each([
  ['a missing seal key', { audit: { signingKeyFile: join(dir, 'missing.private.jwk.json') } }, 'egress serve: audit.signingKeyFile: seal key '],
  ['a missing JWKS', { auth: { jwksFile: join(dir, 'missing.jwks.json') } }, 'egress serve: auth.jwksFile (EGRESS_JWKS_FILE): JWKS_UNREADABLE: '],
  ['a JWKS that is not JSON', { auth: { jwksFile: join(dir, 'bad.jwks.json') } }, 'egress serve: auth.jwksFile (EGRESS_JWKS_FILE): JWKS_INVALID: '],
])('%s: exit 1 naming the field, and no data directory made', async (name, config, message) => {
  writeFileSync(join(dir, 'bad.jwks.json'), '{"keys": [')
  const configPath = join(dir, `${name.replaceAll(' ', '-')}.json`)
  writeFileSync(configPath, JSON.stringify(config))
  const dataDir = join(dir, `data-${name.replaceAll(' ', '-')}`)
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--config', configPath], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_CONFIG: '', EGRESS_DATA_DIR: dataDir, PORT: '1' },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  expect(await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])).toBe(1)
  expect((await new Response(child.stderr as ReadableStream).text()).trimEnd().split('\n').at(-1)).toStartWith(message)
  expect(existsSync(dataDir)).toBe(false)
}, 30_000)
