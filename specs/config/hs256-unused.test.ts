/**
 * serve warns when an HS256 secret is configured where HS256 tokens are refused (src/config/hs256-unused.ts): every
 * HS256 token was then 401 with nothing said at start.
 */

import { expect, test } from 'bun:test'
import { hs256SecretUnused } from '../../src/config/hs256-unused.ts'
import { parseConfig } from '../../src/config/index.ts'

const SECRET = 's'.repeat(40)

test('a secret set in shadow mode without hs256Enabled is named, with the setting that would take it', () => {
  const config = parseConfig({ mode: 'shadow', auth: { hs256Secret: SECRET, jwksFile: '/dev/null' } })
  expect(config.auth.hs256Enabled).toBe(false)
  expect(hs256SecretUnused(config)).toBe('auth.hs256Secret (or EGRESS_HS256_SECRET) is set, but HS256 tokens are refused in shadow mode: auth.hs256Enabled is false (set it to true to take them)')
})

test('no warning where the secret is used (paper, or hs256Enabled) or none is set', () => {
  expect(hs256SecretUnused(parseConfig({ auth: { hs256Secret: SECRET } }))).toBeNull()
  expect(hs256SecretUnused(parseConfig({ mode: 'shadow', auth: { hs256Secret: SECRET, hs256Enabled: true } }))).toBeNull()
  expect(hs256SecretUnused(parseConfig({ mode: 'shadow', auth: { jwksFile: '/dev/null' } }))).toBeNull()
})
