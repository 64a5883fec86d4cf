/**
 * Trusted public keys from a JWKS file, selected by `kid`, re-read on an interval so keys rotate without a restart.
 *
 * A reload that fails (file missing, half-written, invalid) keeps the last good key set and reports the error: an
 * operator's typo must not lock every client out. A successful reload replaces the set entirely, so a key removed
 * from the file stops verifying within one reload interval.
 */

import { createPublicKey, type JsonWebKeyInput, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose'

export class JwksError extends Error {
  override readonly name = 'JwksError'
}

export interface JwksFileOptions {
  reloadMs: number
  /** Called after the key set changed (not on a reload that found the same content). */
  onChange?: () => void
  /** Where reload failures are reported; stderr by default. */
  log?: (message: string) => void
}

export interface JwksFile {
  /** The jose key resolver over the current key set. */
  readonly resolve: JWTVerifyGetKey
  /** The `kid`s currently trusted. */
  kids(): readonly string[]
  /** Re-reads the file now; true when the key set changed. Never throws: failures keep the old set. */
  reload(): Promise<boolean>
  /** Stops the reload timer. */
  close(): void
}

/** Loads the file (throws JwksError if it is unusable) and starts reloading it every `reloadMs`. */
export function openJwksFile(path: string, options: JwksFileOptions): JwksFile {
  const log = options.log ?? ((message: string) => console.error(message))
  let text = readText(path)
  let current = parseJwks(path, text)
  let resolver = createLocalJWKSet(current)

  async function reload(): Promise<boolean> {
    try {
      const next = await readFile(path, 'utf8')
      if (next === text) return false
      const keys = parseJwks(path, next)
      text = next
      current = keys
      resolver = createLocalJWKSet(keys)
      options.onChange?.()
      return true
    } catch (error) {
      log(`jwks reload failed, keeping ${current.keys.length} key(s): ${error instanceof Error ? error.message : String(error)}`)
      return false
    }
  }

  const timer = setInterval(() => void reload(), options.reloadMs)
  // The timer must not keep a finished CLI command or test process alive.
  timer.unref()

  return {
    resolve: (header, token) => resolver(header, token),
    kids: () => current.keys.map((key) => key.kid as string),
    reload,
    close: () => clearInterval(timer),
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new JwksError(`jwks file ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`)
  }
}

/**
 * Checks what createLocalJWKSet would only find out per request: every key public, with a unique kid, readable as a
 * public key (a truncated value or misspelt `kty` is caught here, so a reload keeps the last good set instead of
 * every client of that kid getting 401), and not contradicting an `alg` this gateway verifies. Keys for other
 * algorithms or uses are kept: they never match a token here, and an identity provider's JWKS may list them.
 */
function parseJwks(path: string, text: string): JSONWebKeySet {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new JwksError(`jwks file ${path}: not valid JSON`)
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) throw new JwksError(`jwks file ${path}: expected {"keys": [...]}`)
  const seen = new Set<string>()
  keys.forEach((key: unknown, index) => {
    if (typeof key !== 'object' || key === null) throw new JwksError(`jwks file ${path}: keys.${index} is not an object`)
    const { kid, kty, d } = key as { kid?: unknown; kty?: unknown; d?: unknown }
    if (typeof kid !== 'string' || kid === '') throw new JwksError(`jwks file ${path}: keys.${index} has no kid`)
    if (seen.has(kid)) throw new JwksError(`jwks file ${path}: kid "${kid}" appears twice`)
    if (kty === 'oct' || d !== undefined) {
      throw new JwksError(`jwks file ${path}: kid "${kid}" is a secret or private key; a JWKS lists public keys only`)
    }
    let publicKey: KeyObject
    try {
      publicKey = createPublicKey({ key: key as JsonWebKeyInput['key'], format: 'jwk' })
    } catch (error) {
      throw new JwksError(`jwks file ${path}: kid "${kid}" is not a usable public key (${error instanceof Error ? error.message : String(error)})`)
    }
    const { alg } = key as { alg?: unknown }
    const fits = typeof alg === 'string' ? KEY_FITS_ALG[alg] : undefined
    if (fits !== undefined && !fits(publicKey)) throw new JwksError(`jwks file ${path}: kid "${kid}" is not a key for its alg ${String(alg)}`)
    seen.add(kid)
  })
  return { keys } as JSONWebKeySet
}

/** The algorithms verified with JWKS keys (verifier.ts JWKS_ALGORITHMS), each with the keys it can use. */
const KEY_FITS_ALG: Record<string, (key: KeyObject) => boolean> = {
  EdDSA: (key) => key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448',
  ES256: (key) => key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1',
  RS256: (key) => key.asymmetricKeyType === 'rsa',
}
