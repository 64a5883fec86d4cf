/**
 * `egress token`'s lifetime is capped: 24 h unless the config's auth.tokenTtlSecMax says otherwise (at most 30 days);
 * a longer --ttl is refused (exit 2, nothing minted). The token's jti and expiry are printed on stderr, which is what
 * an admin revokes it by (POST /v1/admin/revocations).
 */

import { expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { runCli } from '../../src/cli/index.ts'
import { recordingIo } from './io.ts'

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), 'egress-cli-ttl-'))
}

test('a --ttl over 24 h is refused by default (exit 2, no token); 24 h is minted', async () => {
  const env = { EGRESS_DATA_DIR: dataDir() }
  const refused = recordingIo(env)
  expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1', '--ttl', '86401'], refused)).toBe(2)
  expect(refused.stdout).toEqual([])
  expect(refused.stderr).toEqual(['egress token: --ttl: expected at most auth.tokenTtlSecMax (86400 s, the default), got 86401; a shorter-lived token bounds what a leaked one can do (see "egress token --help")'])
  const minted = recordingIo(env)
  expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1', '--ttl', '86400'], minted)).toBe(0)
  const payload = decodeJwt(minted.stdout.at(-1) ?? '')
  expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(86_400)
})

test('auth.tokenTtlSecMax sets the cap; a 30-day one is allowed when configured so', async () => {
  const dir = dataDir()
  const config = join(dir, 'egress.json')
  writeFileSync(config, JSON.stringify({ dataDir: join(dir, 'data'), auth: { tokenTtlSecMax: 600 } }))
  const refused = recordingIo({})
  expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1', '--ttl', '601', '--config', config], refused)).toBe(2)
  expect(refused.stderr[0]).toContain('expected at most auth.tokenTtlSecMax (600 s)')
  writeFileSync(config, JSON.stringify({ dataDir: join(dir, 'data'), auth: { tokenTtlSecMax: 2_592_000 } }))
  const month = recordingIo({})
  expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1', '--ttl', '2592000', '--config', config], month)).toBe(0)
  writeFileSync(config, JSON.stringify({ dataDir: join(dir, 'data'), auth: { tokenTtlSecMax: 2_592_001 } }))
  expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1', '--config', config], recordingIo({}))).toBe(1)
})

test("the token's jti and expiry in ms are printed on stderr", async () => {
  const io = recordingIo({ EGRESS_DATA_DIR: dataDir() })
  expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1'], io)).toBe(0)
  const payload = decodeJwt(io.stdout.at(-1) ?? '')
  expect(typeof payload.jti).toBe('string')
  expect(io.stderr.some((line) => line.includes(`jti ${payload.jti}`) && line.includes(`(${(payload.exp ?? 0) * 1000} ms)`))).toBe(true)
})
