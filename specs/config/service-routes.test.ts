/**
 * Config auth.protectServiceRoutes and auth.scrapeTokenFile (src/config/schema.ts, load.ts; served by
 * src/http/auth/service-routes.ts): validated and named on error; unset, the service routes stay open and a config
 * without the fields keeps its digest.
 */

import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configDigest, defaultConfig, parseConfig } from '../../src/config/index.ts'
import { serviceRoutesAuthFromConfig } from '../../src/http/auth/index.ts'
import { messageOf } from './support.ts'

describe('validation names the field', () => {
  test('protectServiceRoutes takes a boolean', () => {
    expect(messageOf(() => parseConfig({ auth: { protectServiceRoutes: 'yes' } }))).toContain('auth.protectServiceRoutes: expected true or false')
  })

  test('scrapeTokenFile takes a non-empty path', () => {
    expect(messageOf(() => parseConfig({ auth: { protectServiceRoutes: true, scrapeTokenFile: '' } }))).toContain('auth.scrapeTokenFile: expected a non-empty path')
  })

  test('scrapeTokenFile without protectServiceRoutes true is refused: it would guard nothing', () => {
    for (const auth of [{ scrapeTokenFile: '/etc/egress/scrape.token' }, { protectServiceRoutes: false, scrapeTokenFile: '/etc/egress/scrape.token' }]) {
      expect(messageOf(() => parseConfig({ auth }))).toContain('auth.scrapeTokenFile: only used with auth.protectServiceRoutes true')
    }
  })
})

describe('unset: as before the fields existed', () => {
  test('the default config keeps its pinned digest and leaves the service routes open', () => {
    expect(configDigest(defaultConfig())).toBe('61a937cab36a2db308806e2f272b2d3e1f167e0fba97f9ac4d305913d859ff1d')
    expect(serviceRoutesAuthFromConfig(defaultConfig().auth)).toBeUndefined()
    expect(serviceRoutesAuthFromConfig(parseConfig({ auth: { protectServiceRoutes: false } }).auth)).toBeUndefined()
  })

  test('setting them changes the digest (the path is in it, the secret never is)', () => {
    const on = parseConfig({ auth: { protectServiceRoutes: true } })
    expect(configDigest(on)).not.toBe(configDigest(defaultConfig()))
  })
})

describe('serviceRoutesAuthFromConfig', () => {
  test('on without a scrape token: JWTs only; with one: the file is read now', () => {
    expect(serviceRoutesAuthFromConfig(parseConfig({ auth: { protectServiceRoutes: true } }).auth)).toEqual({ scrapeToken: null })
    const dir = mkdtempSync(join(tmpdir(), 'egress-scrape-config-'))
    try {
      const path = join(dir, 'scrape.token')
      const config = parseConfig({ auth: { protectServiceRoutes: true, scrapeTokenFile: path } })
      expect(messageOf(() => serviceRoutesAuthFromConfig(config.auth))).toContain('auth.scrapeTokenFile: cannot read')
      writeFileSync(path, `${'s'.repeat(40)}\n`)
      expect(serviceRoutesAuthFromConfig(config.auth)?.scrapeToken?.matches('s'.repeat(40))).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
