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

/** The public JWK of an RSA key of `bits`, stated as RS256. */
function rsaJwk(bits: number, kid: string): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  return { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }
}

const UNUSABLE = [['a 1024-bit RSA key stated as RS256 (jose refuses RSA keys under 2048 bits)', () => rsaJwk(1024, 'rsa-1024')]] as const

describe('a key its stated alg cannot verify with is an invalid JWKS, as any unusable key is', () => {
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
