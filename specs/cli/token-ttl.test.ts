/**
 * `egress token`'s lifetime is capped: 24 h unless the config's auth.tokenTtlSecMax says otherwise (at most 30 days);
 * a longer --ttl is refused (exit 2, nothing minted). The token's jti and expiry are printed on stderr, which is what
 * an admin revokes it by (POST /v1/admin/revocations). The refusal names that one bound: checked first against the
 * config's own limit, --ttl 999999999 was told 2592000, and a retry with 2592000 was then told 86400 (a newcomer's
 * walkthrough); without --ttl, a cap under the default hour refused every token.
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
  expect(refused.stderr).toEqual(['egress token: --ttl: expected an integer between 1 and 86400 (auth.tokenTtlSecMax, the default), got "86401"; a shorter-lived token bounds what a leaked one can do (see "egress token --help")'])
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
  expect(refused.stderr[0]).toContain('expected an integer between 1 and 600 (auth.tokenTtlSecMax), got "601"')
  const unset = recordingIo({})
  expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1', '--config', config], unset)).toBe(0)
  const capped = decodeJwt(unset.stdout.at(-1) ?? '')
  expect((capped.exp ?? 0) - (capped.iat ?? 0)).toBe(600)
  writeFileSync(config, JSON.stringify({ dataDir: join(dir, 'data'), auth: { tokenTtlSecMax: 2_592_000 } }))
  const month = recordingIo({})
  expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1', '--ttl', '2592000', '--config', config], month)).toBe(0)
  writeFileSync(config, JSON.stringify({ dataDir: join(dir, 'data'), auth: { tokenTtlSecMax: 2_592_001 } }))
  expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1', '--config', config], recordingIo({}))).toBe(1)
})

test('a --ttl past every bound and a retry with any number over the bound are told the same bound, the one that holds', async () => {
  const env = { EGRESS_DATA_DIR: dataDir() }
  for (const ttl of ['999999999', '2592000', '86401', '0', 'a day']) {
    const io = recordingIo(env)
    expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1', '--role', 'trader', '--ttl', ttl], io)).toBe(2)
    expect(io.stdout).toEqual([])
    expect(io.stderr).toEqual([`egress token: --ttl: expected an integer between 1 and 86400 (auth.tokenTtlSecMax, the default), got ${JSON.stringify(ttl)}; a shorter-lived token bounds what a leaked one can do (see "egress token --help")`])
  }
})

test("the token's jti and expiry in ms are printed on stderr", async () => {
  const io = recordingIo({ EGRESS_DATA_DIR: dataDir() })
  expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1'], io)).toBe(0)
  const payload = decodeJwt(io.stdout.at(-1) ?? '')
  expect(typeof payload.jti).toBe('string')
  expect(io.stderr.some((line) => line.includes(`jti ${payload.jti}`) && line.includes(`(${(payload.exp ?? 0) * 1000} ms)`))).toBe(true)
})
