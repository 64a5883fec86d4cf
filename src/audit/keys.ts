/**
 * Seal keys. The signing key is the Ed25519 private JWK `egress keygen` writes (mode 0600); a private key file that
 * group or others can read is refused, like the HS256 secret. Verifiers take a public JWK or a JWKS (keys selected
 * by `kid`, so seals signed before a key rotation still verify with the old public key in the set).
 */

import { statSync } from 'node:fs'
import { readFailureOf, readFileBounded } from '../config/bounded-read.ts'
import { createLocalJWKSet, importJWK, type CompactVerifyGetKey, type JSONWebKeySet, type JWK } from 'jose'
import * as v from 'valibot'

/**
 * Why a key file could not be used, naming the file and never its content: KEY_FILE_UNREADABLE (missing, a directory,
 * too large, a pipe), KEY_FILE_EXPOSED (a private key group or others can read), KEY_FILE_INVALID (not JSON, not an
 * Ed25519 key or key set, a public key where the private one is needed, no kid).
 */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError'
  constructor(
    readonly code: 'KEY_FILE_UNREADABLE' | 'KEY_FILE_EXPOSED' | 'KEY_FILE_INVALID',
    message: string,
  ) {
    super(message)
  }
}

export interface SealSigningKey {
  key: CryptoKey
  kid: string
}

/** Resolves the verifying key for a seal's protected header; throws when no key matches its kid. */
export type SealKeyResolver = CompactVerifyGetKey

/** An Ed25519 key's 32 bytes, base64url (padding allowed, as jose reads it). */
const ED25519_BYTES = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}=?$/, 'expected 32 bytes, base64url'))

/**
 * An Ed25519 JWK for seals: `alg`, when given, EdDSA (or its newer name Ed25519); `use`, when given, sig. Others passed
 * the start and then failed every seal, which the self-check reported as tampering and halted on (review).
 */
const ED25519_JWK = v.looseObject({
  kty: v.literal('OKP'),
  crv: v.literal('Ed25519'),
  x: ED25519_BYTES,
  kid: v.optional(v.string()),
  d: v.optional(ED25519_BYTES),
  alg: v.optional(v.picklist(['EdDSA', 'Ed25519'])),
  use: v.optional(v.literal('sig')),
})

/**
 * A JWKS that can verify seals: at least one of its keys an Ed25519 seal key; no key with a private member (jose
 * refuses the set). Keys of other types or uses may sit beside them (a set shared with other signers), as before:
 * they never match a seal's kid.
 */
const JWKS = v.looseObject({
  keys: v.pipe(
    v.array(v.looseObject({ kty: v.string() })),
    v.check((keys) => keys.every((key) => !('d' in key)), 'a JWKS holds public keys only'),
    v.check((keys) => keys.some((key) => v.is(ED25519_JWK, key) && key.d === undefined), 'expected at least one Ed25519 seal key'),
  ),
})

/** Reads the private JWK at `path` (must not be group/other accessible) and imports it for EdDSA signing. */
export async function loadSigningKey(path: string): Promise<SealSigningKey> {
  let mode: number
  try {
    mode = statSync(path).mode & 0o777
  } catch (error) {
    throw new KeyFileError('KEY_FILE_UNREADABLE', `seal key ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyFileError('KEY_FILE_EXPOSED', `seal key ${path} is accessible to group or others (mode ${mode.toString(8)}); run chmod 600 on it`)
  }
  const jwk = parseJwk(readKeyJson(path), path)
  if (jwk.d === undefined) throw new KeyFileError('KEY_FILE_INVALID', `seal key ${path} is a public key; signing needs the private key file`)
  if (jwk.kid === undefined) throw new KeyFileError('KEY_FILE_INVALID', `seal key ${path} has no kid; create keys with "egress keygen"`)
  const key = await importJWK(jwk as JWK, 'EdDSA')
  if (!(key instanceof CryptoKey)) throw new KeyFileError('KEY_FILE_INVALID', `seal key ${path} did not import as an asymmetric key`)
  return { key, kid: jwk.kid }
}

/** A resolver for one public JWK: a seal whose kid names another key does not verify. */
export async function keyResolverFromJwk(publicJwk: JWK): Promise<SealKeyResolver> {
  const jwk = parseJwk(publicJwk, 'public key')
  const { d: _private, ...publicOnly } = jwk
  const key = await importJWK(publicOnly as JWK, 'EdDSA')
  return async function sealKeyFromJwk(header) {
    if (jwk.kid !== undefined && header.kid !== jwk.kid) {
      throw new Error(`seal signed by key ${String(header.kid)}, the given public key is ${jwk.kid}`)
    }
    return key
  }
}

/**
 * A resolver for a JWKS. Seals are signed under the alg name EdDSA, and jose's key set takes a key only when its alg is
 * the header's: a seal key under the newer name Ed25519 (read as one: ED25519_JWK) matched no seal, so every seal
 * failed its signature — a tamper finding at the self-check, exit 65 from audit verify — on a clean log (review). Such
 * a key is read under the name EdDSA, the same Ed25519 key.
 */
export function keyResolverFromJwks(jwks: JSONWebKeySet): SealKeyResolver {
  const keys = jwks.keys.map((jwk) => (jwk.alg === 'Ed25519' && v.is(ED25519_JWK, jwk) ? { ...jwk, alg: 'EdDSA' } : jwk))
  return createLocalJWKSet({ ...jwks, keys })
}

/**
 * Verifying keys as plain data, so a thread of its own (the self-check's) can build its resolver: one public JWK (its
 * private part dropped) or a JWKS.
 */
export type SealKeySource = { kind: 'jwk'; jwk: JWK } | { kind: 'jwks'; jwks: JSONWebKeySet }

/**
 * Where the verifying key is read from. `allowPipes`: a pipe at the path is read (`egress audit verify --jwks
 * <(curl …)`, read once); unset, it is refused (readKeyJson), as for the gateway's own key files.
 */
export interface KeySourcePaths {
  publicKeyPath?: string
  jwksPath?: string
  allowPipes?: boolean
}

/** Reads `--public-key FILE` (a JWK) or `--jwks FILE` (a JWKS) as a key source; the JWK is checked as loadKeyResolver does. */
export function loadKeySource(options: KeySourcePaths): SealKeySource {
  const read = { allowPipes: options.allowPipes === true }
  if (options.publicKeyPath !== undefined) return publicKeySource(readKeyJson(options.publicKeyPath, read) as JWK, options.publicKeyPath)
  if (options.jwksPath !== undefined) return jwksSource(readKeyJson(options.jwksPath, read), options.jwksPath)
  throw new Error('no verifying key: give a public key file or a JWKS file')
}

/** A key file already read (`json`, from `where`): a JWKS when it has `keys`, else a JWK, as the key source it is. */
export function keySourceOfJson(json: unknown, where: string): SealKeySource {
  const isSet = typeof json === 'object' && json !== null && Array.isArray((json as { keys?: unknown }).keys)
  return isSet ? jwksSource(json, where) : publicKeySource(json as JWK, where)
}

function jwksSource(json: unknown, where: string): SealKeySource {
  if (!v.is(JWKS, json)) throw new KeyFileError('KEY_FILE_INVALID', `${where}: expected a JWKS ({ "keys": [...] }) of public keys, at least one an Ed25519 seal key (kty "OKP", crv "Ed25519", 32-byte x; alg EdDSA and use sig when given)`)
  return { kind: 'jwks', jwks: json as JSONWebKeySet }
}

/** The public half of an Ed25519 JWK (public or private) as a key source. */
export function publicKeySource(jwk: JWK, where = 'public key'): SealKeySource {
  const { d: _private, ...publicOnly } = parseJwk(jwk, where)
  return { kind: 'jwk', jwk: publicOnly as JWK }
}

/** The resolver for a key source. */
export async function keyResolverOf(source: SealKeySource): Promise<SealKeyResolver> {
  return source.kind === 'jwk' ? keyResolverFromJwk(source.jwk) : keyResolverFromJwks(source.jwks)
}

/** Loads `--public-key FILE` (a JWK) or `--jwks FILE` (a JWKS) into a resolver. */
export async function loadKeyResolver(options: KeySourcePaths): Promise<SealKeyResolver> {
  return keyResolverOf(loadKeySource(options))
}

function parseJwk(value: unknown, where: string): v.InferOutput<typeof ED25519_JWK> {
  const result = v.safeParse(ED25519_JWK, value)
  if (!result.success) throw new KeyFileError('KEY_FILE_INVALID', `${where}: expected an Ed25519 JWK (kty "OKP", crv "Ed25519", 32-byte x; alg EdDSA and use sig when given)`)
  return result.output
}

/** A key or a key set is a few KiB; this bounds what a wrong path (a log, /dev/zero) can make the gateway hold. */
export const KEY_FILE_BYTES_MAX = 1024 * 1024

/**
 * A key file's JSON. Failures name the file and what went wrong, never its content: the parser's message quotes the
 * text it stopped at, which in a private key file is the key. A pipe or socket at the path is refused (the gateway
 * reads its key files at start, some twice: a FIFO hung the start), unless `allowPipes` (a command that reads it once).
 */
export function readKeyJson(path: string, options: { allowPipes: boolean } = { allowPipes: false }): unknown {
  let text: string
  try {
    text = new TextDecoder().decode(readFileBounded(path, KEY_FILE_BYTES_MAX, { allowPipes: options.allowPipes }))
  } catch (error) {
    throw new KeyFileError('KEY_FILE_UNREADABLE', `${path}: cannot read (${readFailureOf(error)})`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new KeyFileError('KEY_FILE_INVALID', `${path}: not valid JSON`)
  }
}
