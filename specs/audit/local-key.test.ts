import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLocalSealKey, loadSigningKey, localSealKeyPaths, withLocalSealKey } from '../../src/audit/index.ts'
import { defaultConfig } from '../../src/config/index.ts'

function dataDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'egress-local-seal-key-')), 'data')
}

describe('the local seal key', () => {
  test('paper and shadow without a configured key get the data dir\'s key, made once (0600 in a 0700 dir) and kept', async () => {
    const dir = dataDir()
    try {
      for (const mode of ['paper', 'shadow'] as const) {
        const audit = await withLocalSealKey(defaultConfig().audit, { dataDir: dir, mode })
        expect(audit.signingKeyFile).toBe(localSealKeyPaths(dir).privatePath)
      }
      const { privatePath, publicPath } = localSealKeyPaths(dir)
      expect(statSync(join(dir, 'audit')).mode & 0o777).toBe(0o700)
      expect(statSync(privatePath).mode & 0o777).toBe(0o600)
      const kid = (await loadSigningKey(privatePath)).kid
      const publicJwk = JSON.parse(readFileSync(publicPath, 'utf8')) as { kid: string; d?: string }
      expect(publicJwk.kid).toBe(kid)
      expect(publicJwk.d).toBeUndefined()
      expect((await ensureLocalSealKey(dir)).created).toBe(false)
      expect((await loadSigningKey(privatePath)).kid).toBe(kid)
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true })
    }
  })

  test('a public file lost (a start cut short between the two) is written again from the private key', async () => {
    const dir = dataDir()
    try {
      const { privatePath, publicPath } = localSealKeyPaths(dir)
      await ensureLocalSealKey(dir)
      rmSync(publicPath)
      expect((await ensureLocalSealKey(dir)).created).toBe(false)
      expect((JSON.parse(readFileSync(publicPath, 'utf8')) as { kid: string }).kid).toBe((await loadSigningKey(privatePath)).kid)
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true })
    }
  })

  test('a configured key is kept as it is, and live never gets a local key', async () => {
    const dir = dataDir()
    try {
      const configured = { ...defaultConfig().audit, signingKeyFile: '/keys/mine.jwk.json' }
      expect(await withLocalSealKey(configured, { dataDir: dir, mode: 'paper' })).toBe(configured)
      const bare = defaultConfig().audit
      expect(await withLocalSealKey(bare, { dataDir: dir, mode: 'live' })).toBe(bare)
      expect(() => statSync(join(dir, 'audit'))).toThrow()
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true })
    }
  })
})
