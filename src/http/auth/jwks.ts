/**
 * Trusted public keys from a JWKS file, selected by `kid`, re-read on an interval so keys rotate without a restart.
 *
 * A reload that fails (file missing, half-written, invalid) keeps the last good key set for a bounded grace
 * (`staleMaxMs`, counted from the last read that found a good file) and reports each failure, typed: an operator's
 * typo must not lock every client out at once. Past the grace the key set is stale and tokens by its keys are
 * refused (fail closed): a key the operator removed must not stay trusted for as long as the file stays broken. A
 * successful reload replaces the set entirely, so a key removed from the file stops verifying within one interval.
 *
 * Reloads run one at a time: a read that started before the file changed must never land after (and replace) the
 * set a later read found. A call while a read is under way queues one more read behind it; calls while that one
 * waits share it, so a hung file system holds one queued read, not one per timer tick.
 */

import { createPublicKey, type JsonWebKeyInput, type KeyObject } from 'node:crypto'
import { readFailureOf, readFileBounded } from '../../config/bounded-read.ts'
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose'

/** Why a JWKS file could not be used: it could not be read, or what it holds is not a usable public key set. */
export type JwksErrorCode = 'JWKS_UNREADABLE' | 'JWKS_INVALID'

export class JwksError extends Error {
  override readonly name = 'JwksError'
  constructor(
    readonly code: JwksErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** Thrown by `resolve` once the key set is past its grace; the verifier answers 401 reason `jwks_stale`. */
export class JwksStaleError extends Error {
  override readonly name = 'JwksStaleError'
  readonly code = 'JWKS_STALE'
}

/** One failed reload, as reported to `onReloadFailed` (and counted in `status().reloadFailures`). */
export interface JwksReloadFailure {
  code: JwksErrorCode
  path: string
  message: string
  /** Keys still trusted (until `staleAtMs`). */
  keysKept: number
  /** When the last read found a good file. */
  lastGoodAtMs: number
  /** From then on tokens by these keys are refused, unless a reload finds a good file first. */
  staleAtMs: number
}

export interface JwksStatus {
  /** The clock reading this status was taken at. */
  atMs: number
  keysTrusted: number
  lastGoodAtMs: number
  staleAtMs: number
  /** True once staleMaxMs has passed since the last good read (on elapsedMs): tokens by these keys are refused. */
  stale: boolean
  /**
   * Time since the last good read, on elapsedMs as `stale` (atMs − lastGoodAtMs is on the wall clock: a step back held
   * it at 0 while the key set was stale).
   */
  lastGoodAgeMs: number
  /** Failed reloads since the file was opened, by code. */
  reloadFailures: Readonly<Record<JwksErrorCode, number>>
}

export interface JwksFileOptions {
  reloadMs: number
  /** How long after the last good read the keys stay trusted while reloads fail; at least 2 × reloadMs. */
  staleMaxMs: number
  /** The wall clock the times reported are read on (lastGoodAtMs, staleAtMs); Date.now by default. */
  nowMs?: () => number
  /**
   * The clock the grace is measured on: performance.now by default, so a wall clock stepped (NTP, an operator, a VM
   * resumed) neither ends it at once nor stretches it; `nowMs` when only that is given (a spec's simulated clock).
   */
  elapsedMs?: () => number
  /** Called after the key set changed (not on a reload that found the same content). */
  onChange?: () => void
  /** Called on every failed reload, after it is logged. */
  onReloadFailed?: (failure: JwksReloadFailure) => void
  /** Where reload failures are reported; stderr by default. */
  log?: (message: string) => void
  /** Reads the file on reload; node:fs readFile by default (specs slow it down to overlap reloads). */
  read?: (path: string) => Promise<string>
}

export interface JwksFile {
  /** The jose key resolver over the current key set; throws JwksStaleError once the set is stale. */
  readonly resolve: JWTVerifyGetKey
  /** The `kid`s currently held (trusted unless stale). */
  kids(): readonly string[]
  status(): JwksStatus
  /** Re-reads the file (after any reload under way); true when the key set changed. Never throws. */
  reload(): Promise<boolean>
  /** Stops the reload timer. */
  close(): void
}

/** Loads the file (throws JwksError if it is unusable) and starts reloading it every `reloadMs`. */
export function openJwksFile(path: string, options: JwksFileOptions): JwksFile {
  if (!(options.staleMaxMs >= 2 * options.reloadMs)) {
    // Shorter, and the keys would go stale between two good reloads of an untouched file.
    throw new Error(`openJwksFile: staleMaxMs must be ≥ 2 × reloadMs (${2 * options.reloadMs}), got ${options.staleMaxMs}`)
  }
  const log = options.log ?? ((message: string) => console.error(message))
  const nowMs = options.nowMs ?? Date.now
  const elapsedMs = options.elapsedMs ?? options.nowMs ?? (() => performance.now())
  const read = options.read ?? ((file: string) => Promise.resolve(readJwksText(file)))
  let text = readText(path)
  let current = parseJwks(path, text)
  let resolver = createLocalJWKSet(current)
  let lastGoodAtMs = nowMs()
  let lastGoodElapsedMs = elapsedMs()
  const reloadFailures: Record<JwksErrorCode, number> = { JWKS_UNREADABLE: 0, JWKS_INVALID: 0 }
  const staleAtMs = (): number => lastGoodAtMs + options.staleMaxMs
  const lastGoodAgeMs = (): number => Math.max(0, elapsedMs() - lastGoodElapsedMs)
  const isStale = (): boolean => lastGoodAgeMs() >= options.staleMaxMs
  const goodReadNow = (): void => {
    lastGoodAtMs = nowMs()
    lastGoodElapsedMs = elapsedMs()
  }

  async function readOnce(): Promise<boolean> {
    let next: string
    try {
      next = await read(path)
    } catch (error) {
      failed(new JwksError('JWKS_UNREADABLE', `jwks file ${path}: cannot read (${readFailureOf(error)})`))
      return false
    }
    if (next === text) {
      goodReadNow()
      return false
    }
    let keys: JSONWebKeySet
    try {
      keys = parseJwks(path, next)
    } catch (error) {
      failed(error instanceof JwksError ? error : new JwksError('JWKS_INVALID', `jwks file ${path}: ${String(error)}`))
      return false
    }
    text = next
    current = keys
    resolver = createLocalJWKSet(keys)
    goodReadNow()
    options.onChange?.()
    return true
  }

  function failed(error: JwksError): void {
    reloadFailures[error.code]++
    const failure: JwksReloadFailure = {
      code: error.code, path, message: error.message, keysKept: current.keys.length, lastGoodAtMs, staleAtMs: staleAtMs(),
    }
    const until = new Date(failure.staleAtMs).toISOString()
    const kept = isStale()
      ? `key set stale since ${until}: tokens by its ${failure.keysKept} key(s) are refused until a reload succeeds`
      : `keeping ${failure.keysKept} key(s) until ${until}`
    log(`jwks reload failed (${error.code}), ${kept}: ${error.message}`)
    options.onReloadFailed?.(failure)
  }

  let underWay: Promise<boolean> | null = null
  let queued: Promise<boolean> | null = null
  function start(): Promise<boolean> {
    const run: Promise<boolean> = readOnce().finally(() => {
      if (underWay === run) underWay = null
    })
    underWay = run
    return run
  }
  function reload(): Promise<boolean> {
    if (underWay === null) return start()
    queued ??= underWay.then(() => {
      queued = null
      return start()
    })
    return queued
  }

  const timer = setInterval(() => void reload(), options.reloadMs)
  // The timer must not keep a finished CLI command or test process alive.
  timer.unref()

  return {
    resolve: (header, token) => {
      if (isStale()) {
        throw new JwksStaleError(`jwks key set stale: no good read of ${path} since ${new Date(lastGoodAtMs).toISOString()}`)
      }
      return resolver(header, token)
    },
    kids: () => current.keys.map((key) => key.kid as string),
    status: () => {
      const atMs = nowMs()
      const ageMs = lastGoodAgeMs()
      return { atMs, keysTrusted: current.keys.length, lastGoodAtMs, staleAtMs: staleAtMs(), stale: ageMs >= options.staleMaxMs, lastGoodAgeMs: ageMs, reloadFailures: { ...reloadFailures } }
    },
    reload,
    close: () => clearInterval(timer),
  }
}

/** Reads and checks the JWKS file as its open does, without opening it: throws JwksError (a start checks it before writing). */
export function checkJwksFile(path: string): void {
  parseJwks(path, readText(path))
}

function readText(path: string): string {
  try {
    return readJwksText(path)
  } catch (error) {
    throw new JwksError('JWKS_UNREADABLE', `jwks file ${path}: cannot read (${readFailureOf(error)})`)
  }
}

/** A key set is a few KiB; this bounds what a wrong path (a log, /dev/zero) can make the gateway hold. */
export const JWKS_FILE_BYTES_MAX = 1024 * 1024

function readJwksText(path: string): string {
  return new TextDecoder().decode(readFileBounded(path, JWKS_FILE_BYTES_MAX, { allowPipes: false }))
}

/**
 * Checks what createLocalJWKSet would only find out per request: every key public, with a unique kid, readable as a
 * public key (a truncated value or misspelt `kty` is caught here, so a reload keeps the last good set instead of
 * every client of that kid getting 401), and one jose would verify a token with only if it can (not contradicting an
 * `alg` this gateway verifies; no RSA signing key under 2048 bits, stated RS256 or stating no `alg`). Keys for other
 * algorithms or uses are kept: they never match a token here, and an identity provider's JWKS may list them.
 */
function parseJwks(path: string, text: string): JSONWebKeySet {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new JwksError('JWKS_INVALID', `jwks file ${path}: not valid JSON`)
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) throw new JwksError('JWKS_INVALID', `jwks file ${path}: expected {"keys": [...]}`)
  // No key trusts no token: at start every client is refused, and a reload would lock out every client at once — what
  // keeping the last good set on a bad reload is for (an emptied file, half of a rotation).
  if (keys.length === 0) throw new JwksError('JWKS_INVALID', `jwks file ${path}: holds no key, so no token could be verified; list at least one public key`)
  const seen = new Set<string>()
  keys.forEach((key: unknown, index) => {
    if (typeof key !== 'object' || key === null) throw new JwksError('JWKS_INVALID', `jwks file ${path}: keys.${index} is not an object`)
    const { kid, kty, d } = key as { kid?: unknown; kty?: unknown; d?: unknown }
    if (typeof kid !== 'string' || kid === '') throw new JwksError('JWKS_INVALID', `jwks file ${path}: keys.${index} has no kid`)
    if (seen.has(kid)) throw new JwksError('JWKS_INVALID', `jwks file ${path}: kid "${kid}" appears twice`)
    if (kty === 'oct' || d !== undefined) {
      throw new JwksError('JWKS_INVALID', `jwks file ${path}: kid "${kid}" is a secret or private key; a JWKS lists public keys only`)
    }
    let publicKey: KeyObject
    try {
      publicKey = createPublicKey({ key: key as JsonWebKeyInput['key'], format: 'jwk' })
    } catch (error) {
      throw new JwksError('JWKS_INVALID', `jwks file ${path}: kid "${kid}" is not a usable public key (${error instanceof Error ? error.message : String(error)})`)
    }
    const alg = algUsedFor(key as JwkUse)
    const fits = alg === null ? undefined : KEY_FITS_ALG[alg]
    if (fits !== undefined && !fits(publicKey)) throw new JwksError('JWKS_INVALID', `jwks file ${path}: kid "${kid}" is not a key jose verifies ${alg} with`)
    seen.add(kid)
  })
  return { keys } as JSONWebKeySet
}

/** What of a JWK decides which tokens jose verifies with it (jose's isUsableJWK, jwks/local.js). */
interface JwkUse {
  kty?: unknown
  alg?: unknown
  use?: unknown
  key_ops?: unknown
}

/**
 * The algorithm jose verifies this key's tokens with: its `alg`; for a key that states none, RS256 for an RSA key it
 * would pick for a signature (jose takes a key without `alg` for any token whose alg fits its kty, and RS256 is the
 * one RSA algorithm verified here), else null (Ed25519 and P-256 keys fit their algorithms whatever their size; other
 * keys are never picked). An RSA key under 2048 bits without `alg` was taken at load, and every token of its kid was
 * then 401 `invalid`, as for one stated RS256.
 */
function algUsedFor(key: JwkUse): string | null {
  if (typeof key.alg === 'string') return key.alg
  const signs = (key.use === undefined || key.use === 'sig') && (key.key_ops === undefined || (Array.isArray(key.key_ops) && key.key_ops.includes('verify')))
  return key.kty === 'RSA' && signs ? 'RS256' : null
}

/** jose refuses RS256 with a shorter modulus (every token of the key would be 401 reason `invalid`). */
const RSA_MODULUS_BITS_MIN = 2048

/**
 * The algorithms verified with JWKS keys (verifier.ts JWKS_ALGORITHMS), each with the keys jose verifies it with.
 * RS256 needs 2048 bits or more: a shorter key was taken here, and every token of its kid was then 401 `invalid`.
 */
const KEY_FITS_ALG: Record<string, (key: KeyObject) => boolean> = {
  EdDSA: (key) => key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448',
  ES256: (key) => key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1',
  RS256: (key) => key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= RSA_MODULUS_BITS_MIN,
}
