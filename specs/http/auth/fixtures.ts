/** Shared test fixtures: key pairs, JWKS files and token builders. */

import { mkdtempSync, writeFileSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { createVerifier, type Verifier, type VerifierOptions } from '../../../src/http/auth/index.ts'

export const ISSUER = 'egress'
export const AUDIENCE = 'egress-api'
export const SECRET = 'paper-secret-paper-secret-paper-secret-0123'

export interface SigningKey {
  kid: string
  alg: 'EdDSA' | 'ES256' | 'RS256'
  privateKey: CryptoKey
  publicJwk: JWK
}

export async function signingKey(kid: string, alg: SigningKey['alg'] = 'EdDSA'): Promise<SigningKey> {
  const options = alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true }
  const { privateKey, publicKey } = await generateKeyPair(alg, options)
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicJwk }
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'egress-auth-'))
}

/** Writes a JWKS atomically (temp + rename), as an operator rotating keys should. */
export function writeJwks(path: string, keys: readonly SigningKey[]): void {
  writeFileSync(`${path}.tmp`, JSON.stringify({ keys: keys.map((key) => key.publicJwk) }))
  renameSync(`${path}.tmp`, path)
}

export const CLAIMS = { sub: 'alice', roles: ['trader'], accounts: ['demo-1'] }

export interface TokenOptions {
  claims?: JWTPayload
  iss?: string
  aud?: string
  /** Seconds from now; negative for the past. */
  expInSec?: number | null
  nbfInSec?: number
  kid?: string | null
}

function builder(options: TokenOptions): SignJWT {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ ...CLAIMS, ...options.claims })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt(now)
  if (options.expInSec !== null) jwt.setExpirationTime(now + (options.expInSec ?? 600))
  if (options.nbfInSec !== undefined) jwt.setNotBefore(now + options.nbfInSec)
  return jwt
}

export async function hsToken(options: TokenOptions = {}, secret = SECRET): Promise<string> {
  return builder(options).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret))
}

export async function keyToken(key: SigningKey, options: TokenOptions = {}): Promise<string> {
  const kid = options.kid === undefined ? key.kid : options.kid
  const header = kid === null ? { alg: key.alg } : { alg: key.alg, kid }
  return builder(options).setProtectedHeader(header).sign(key.privateKey)
}

export function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

export function verifier(overrides: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    clockToleranceSec: 5,
    jwksReloadMs: 60_000,
    tokenCacheEntriesMax: 100,
    log: () => {},
    ...overrides,
  })
}
