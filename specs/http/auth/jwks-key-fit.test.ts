import { afterEach, describe, expect, test } from 'bun:test'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { JwksError, type Verifier } from '../../../src/http/auth/index.ts'
import { keyToken, signingKey, tempDir, verifier, writeJwks } from './fixtures.ts'

const opened: Verifier[] = []
afterEach(() => {
  for (const v of opened.splice(0)) v.close()
})

/** The public JWK of an RSA key of `bits`, stated as RS256 unless `stated` says otherwise. */
function rsaJwk(bits: number, kid: string, stated: Record<string, unknown> = { alg: 'RS256', use: 'sig' }): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  return { ...publicKey.export({ format: 'jwk' }), kid, ...stated }
}

const UNUSABLE = [
  ['a 1024-bit RSA key stated as RS256 (jose refuses RSA keys under 2048 bits)', () => rsaJwk(1024, 'rsa-1024')],
  // jose picks a key that states no alg for any token whose alg fits its kty: an RSA key, for RS256.
  ['a 1024-bit RSA signing key that states no alg (jose uses it for RS256)', () => rsaJwk(1024, 'rsa-1024-no-alg', { use: 'sig' })],
  ['a 1024-bit RSA key that states neither alg nor use', () => rsaJwk(1024, 'rsa-1024-bare', {})],
] as const

describe('a key jose would pick for a token but cannot verify it with is an invalid JWKS, as any unusable key is', () => {
  for (const [what, jwk] of UNUSABLE) {
    test(`${what} is refused at start`, () => {
      const path = join(tempDir(), 'jwks.json')
      writeFileSync(path, JSON.stringify({ keys: [jwk()] }))
      expect(() => verifier({ jwksFile: path })).toThrow(JwksError)
    })

    test(`${what} in a reload keeps the last good keys`, async () => {
      const good = await signingKey('ed-1')
      const path = join(tempDir(), 'jwks.json')
      writeJwks(path, [good])
      const v = verifier({ jwksFile: path })
      opened.push(v)
      writeFileSync(path, JSON.stringify({ keys: [jwk()] }))
      await v.reloadKeys()
      expect(v.jwksStatus()?.reloadFailures.JWKS_INVALID).toBe(1)
      expect((await v.verify(await keyToken(good))).sub).toBe('alice')
    })
  }
})

describe('a key set with no key', () => {
  test('is refused at start (JWKS_INVALID: no token could be verified), and a reload emptied keeps the last good keys', async () => {
    const path = join(tempDir(), 'jwks.json')
    writeFileSync(path, JSON.stringify({ keys: [] }))
    expect(() => verifier({ jwksFile: path })).toThrow('holds no key')
    const good = await signingKey('ed-1')
    writeJwks(path, [good])
    const v = verifier({ jwksFile: path })
    opened.push(v)
    writeFileSync(path, JSON.stringify({ keys: [] }))
    await v.reloadKeys()
    expect(v.jwksStatus()?.reloadFailures.JWKS_INVALID).toBe(1)
    expect((await v.verify(await keyToken(good))).sub).toBe('alice')
  })
})

describe('keys no token here is verified with are kept, as an identity provider may list them', () => {
  for (const [what, jwk] of [
    ['a 1024-bit RSA key for encryption (use enc)', () => rsaJwk(1024, 'rsa-enc', { use: 'enc' })],
    ['a 1024-bit RSA key whose key_ops exclude verify', () => rsaJwk(1024, 'rsa-wrap', { key_ops: ['wrapKey'] })],
    ['a 1024-bit RSA key stated as RSA-OAEP', () => rsaJwk(1024, 'rsa-oaep', { alg: 'RSA-OAEP' })],
    ['a 2048-bit RSA key that states no alg', () => rsaJwk(2048, 'rsa-2048-no-alg', {})],
  ] as const) {
    test(`${what} is kept`, () => {
      const path = join(tempDir(), 'jwks.json')
      writeFileSync(path, JSON.stringify({ keys: [jwk()] }))
      const v = verifier({ jwksFile: path })
      opened.push(v)
      expect(v.jwksStatus()?.keysTrusted).toBe(1)
    })
  }
})
