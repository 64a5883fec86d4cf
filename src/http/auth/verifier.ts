/**
 * Bearer token verification with jose. Everything a token may be checked for is pinned explicitly:
 *
 * - algorithms: EdDSA, ES256, RS256 with keys from the JWKS file (chosen by `kid`, which is required), and HS256 with
 *   the local secret only when the config enables it. `alg: none` is never accepted (jose refuses it outright), and
 *   the key source follows the algorithm, so an HS256 token can never be checked against a public key.
 * - issuer, audience, expiry and issue time (`iat`: both required, as RFC 9068 §2.2 has them), not-before, with a
 *   clock tolerance in seconds; an `iat` further in the future than the tolerance is refused too (jose checks `iat`
 *   only against a maximum token age, which is not used here), and so is an `exp` more than TOKEN_LIFE_MS_MAX
 *   (30 days) after `iat`: a revocation lasts that plus twice the largest tolerance (REVOCATION_MS_MAX), so no token
 *   works again once its revocation lapsed. Without `iat` nothing bounded the token: revoked while its exp was more
 *   than 30 days away, it worked again once the revocation lapsed.
 * - the header's `typ`, when present, is `JWT` or `at+jwt` (RFC 9068), letter case and an `application/` prefix aside:
 *   a signed object of another type (a logout token, a JWS meant for something else) is not an access token.
 * - a `crit` header naming an extension (none is understood here) is refused as such, not as an algorithm problem.
 * - the claims must form a Principal (see principal.ts).
 *
 * Every failure is an ApiError UNAUTHENTICATED with a short reason in details; nothing about keys is revealed.
 */

import { base64url, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import type { AuthConfig } from '../../config/index.ts'
import { TOKEN_LIFE_MS_MAX } from '../../domain/revocations.ts'
import { ApiError } from '../errors.ts'
import { firstDuplicateMember } from '../duplicate-members.ts'
import { JwksStaleError, openJwksFile, type JwksFile, type JwksReloadFailure, type JwksStatus } from './jwks.ts'
import { principalFromClaims, type Principal } from './principal.ts'
import { refuseRevoked, revocationsVersion, tokenFactsOf, type RevocationSource, type VerifiedToken } from './revocation-check.ts'
import { TokenCache } from './token-cache.ts'

/** Asymmetric algorithms accepted for JWKS keys. */
export const JWKS_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const
export const HS256 = 'HS256'
/** `jwksStaleMaxMs` when unset: this many reload intervals without a good read of the JWKS file. */
export const JWKS_STALE_RELOADS_DEFAULT = 5

export interface VerifierOptions {
  issuer: string
  audience: string
  clockToleranceSec: number
  /** Enables HS256 with this secret (its UTF-8 bytes); leave unset to refuse HS256. */
  hs256Secret?: string | undefined
  /** Enables EdDSA/ES256/RS256 with the keys in this file. */
  jwksFile?: string | undefined
  jwksReloadMs: number
  /**
   * While reloads fail, the last good keys stay trusted this long after the last good read, then tokens by them are
   * refused (401 reason `jwks_stale`). Default JWKS_STALE_RELOADS_DEFAULT × jwksReloadMs; at least 2 × jwksReloadMs.
   */
  jwksStaleMaxMs?: number | undefined
  tokenCacheEntriesMax: number
  /** The clock for expiry checks; wall clock by default. */
  nowMs?: () => number
  /** Where JWKS reload failures go; stderr by default. */
  log?: (message: string) => void
  /** Called on every failed JWKS reload (after it is logged). */
  onJwksReloadFailed?: (failure: JwksReloadFailure) => void
}

/**
 * One verified token followed over time (an SSE stream's authority): whether it still holds, asked without verifying
 * it again unless its answer could have changed.
 */
export interface TokenWatch {
  /**
   * `expired`: past its exp and the clock tolerance, on the verifier's clock (the exp was authenticated when the token
   * was verified, so no check is needed to know), or its key left the key set (a rotation: nothing to check it with);
   * `recheck`: the key set changed (reloaded with other keys, or went
   * stale), or a revocation was recorded, since the last check that passed, so `check` may answer differently; `held`:
   * neither.
   */
  state(): 'held' | 'expired' | 'recheck'
  /** Verifies the token again (from the cache while it holds the token); resolves true when it passes. Never rejects. */
  check(): Promise<boolean>
}

export interface Verifier {
  /** The principal for a bearer token, or throws ApiError UNAUTHENTICATED (TOKEN_REVOKED for a revoked one). */
  verify(token: string): Promise<Principal>
  /**
   * The principal of a token the cache holds, judged as verify judges it (revocations included: throws as verify
   * rejects), without a promise; undefined when the cache does not hold it: verify it then.
   */
  verifyCached(token: string): Principal | undefined
  /**
   * Where revoked tokens are looked up (the gateway's kernel state: createHttpService sets it); null: none are. Read
   * at every verification, cached or not.
   */
  useRevocations(source: RevocationSource | null): void
  /** Follows `token` (verified already) for as long as it is held: see TokenWatch. Cheap; holds no timer. */
  watch(token: string): TokenWatch
  /** How often the JWKS file is re-read, so how soon a key set can change; null without one (the keys never do). */
  readonly keysReloadMs: number | null
  /** Re-reads the JWKS file now (it is also re-read every jwksReloadMs). */
  reloadKeys(): Promise<void>
  /** The JWKS key set's freshness and failed reloads (for metrics); null without a JWKS file. */
  jwksStatus(): JwksStatus | null
  /** Stops background reloading. */
  close(): void
}

/** The verifier options for an auth config; `hs256Secret` is the resolved secret when HS256 is enabled. */
export function verifierOptionsFromConfig(auth: AuthConfig, hs256Secret?: string): VerifierOptions {
  if (auth.hs256Enabled && hs256Secret === undefined) {
    // Silently dropping HS256 here would turn a wiring mistake into every paper client getting 401.
    throw new Error('verifierOptionsFromConfig: HS256 is enabled; pass the secret from resolveHs256Secret(config)')
  }
  return {
    issuer: auth.issuer,
    audience: auth.audience,
    clockToleranceSec: auth.clockToleranceSec,
    hs256Secret: auth.hs256Enabled ? hs256Secret : undefined,
    jwksFile: auth.jwksFile,
    jwksReloadMs: auth.jwksReloadMs,
    jwksStaleMaxMs: auth.jwksStaleMaxMs,
    tokenCacheEntriesMax: auth.tokenCacheEntriesMax,
  }
}

export function createVerifier(options: VerifierOptions): Verifier {
  const nowMs = options.nowMs ?? Date.now
  const cache = new TokenCache<VerifiedToken>(options.tokenCacheEntriesMax)
  let revocations: RevocationSource | null = null
  // Counts key-set changes. A verification that was under way while the keys changed may have used a key that is gone
  // now: its result answers that one request but is not cached, or it would outlive the rotation until the token's exp.
  let keysGeneration = 0
  const hsKey = options.hs256Secret === undefined ? undefined : new TextEncoder().encode(options.hs256Secret)
  const jwks: JwksFile | undefined =
    options.jwksFile === undefined
      ? undefined
      : openJwksFile(options.jwksFile, {
          reloadMs: options.jwksReloadMs,
          staleMaxMs: options.jwksStaleMaxMs ?? JWKS_STALE_RELOADS_DEFAULT * options.jwksReloadMs,
          // Its grace is measured on the monotonic clock unless a clock was injected (jwks.ts elapsedMs).
          ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
          onChange: () => {
            keysGeneration++
            cache.clear()
          },
          ...(options.log === undefined ? {} : { log: options.log }),
          ...(options.onJwksReloadFailed === undefined ? {} : { onReloadFailed: options.onJwksReloadFailed }),
        })
  if (hsKey === undefined && jwks === undefined) throw new Error('createVerifier: neither hs256Secret nor jwksFile given')
  const algorithms: string[] = [...(jwks === undefined ? [] : JWKS_ALGORITHMS), ...(hsKey === undefined ? [] : [HS256])]

  const resolveKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === HS256 && hsKey !== undefined) return hsKey
    if (jwks === undefined || header.alg === HS256) throw new errors.JOSEAlgNotAllowed('algorithm not allowed')
    if (typeof header.kid !== 'string') throw new errors.JWKSNoMatchingKey('token has no kid')
    return jwks.resolve(header, token)
  }

  // True while the JWKS key set is past its grace. Cached principals of its keys must not outlive that: the cache is
  // cleared once when it goes stale (HS256 tokens are cached again from then on; JWKS tokens fail in resolveKey).
  let jwksStale = false

  /** The key set's generation, counting its going stale as a change (a cached principal must not outlive that). */
  function keysVersion(): number {
    const stale = jwks?.status().stale ?? false
    if (stale && !jwksStale) {
      keysGeneration++
      cache.clear()
    }
    jwksStale = stale
    return keysGeneration
  }

  function cachedPrincipal(token: string, now: number): Principal | undefined {
    keysVersion()
    const cached = cache.get(token, now)
    if (cached === undefined) return undefined
    // The cache keeps a token until its exp: a revocation since must not ride on it.
    refuseRevoked(revocations, cached.facts, now)
    return cached.principal
  }

  async function verify(token: string): Promise<Principal> {
    const now = nowMs()
    const cached = cachedPrincipal(token, now)
    if (cached !== undefined) return cached
    const generation = keysGeneration
    let payload: Record<string, unknown>
    try {
      const result = await jwtVerify(token, resolveKey, {
        algorithms,
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceSec,
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: new Date(now),
      })
      payload = result.payload
      const repeated = repeatedMemberOf(token)
      if (repeated !== null) throw unauthenticated('claims_invalid', repeated)
      if (!ACCESS_TOKEN_TYPES.has(normalizedTyp(result.protectedHeader.typ))) throw unauthenticated('wrong_type')
      // jose has checked iat is present and a finite number.
      if ((payload.iat as number) > now / 1000 + options.clockToleranceSec) throw unauthenticated('not_yet_valid', 'iat is in the future')
      if (outlivesRevocation(payload)) throw unauthenticated('claims_invalid', OUTLIVES_REVOCATION)
    } catch (error) {
      if (error instanceof ApiError) throw error
      const reason = reasonFor(error, token)
      throw unauthenticated(reason, reason === 'claims_invalid' ? missingClaimOf(error) : undefined)
    }
    const principal = principalFromClaims(payload)
    if ('error' in principal) throw unauthenticated('claims_invalid', principal.error)
    const verified = { principal, facts: tokenFactsOf(payload, principal) }
    // exp is required above, so it is a number here; cache only until the token itself expires. A revoked token is
    // cached too (its signature is good): every use of it is refused below, from the cache or not.
    if (generation === keysGeneration) cache.set(token, verified, (payload.exp as number) * 1000)
    refuseRevoked(revocations, verified.facts, now)
    return principal
  }

  function watch(token: string): TokenWatch {
    // -1: checked once at the first look, for the keys may have changed between the caller's verify and this watch.
    let checkedVersion = -1
    let checkedRevocations = -1
    // jose refuses a token once exp <= now - tolerance (in whole seconds): from this instant on.
    const exp = expOf(token)
    const expiredAtMs = exp === null ? 0 : (exp + options.clockToleranceSec) * 1000
    const kid = jwks === undefined ? null : kidOf(token)
    // The key set this watch last found its key in (its version): asked again only when the set changed.
    let kidSeenVersion = -1
    return {
      state: () => {
        if (nowMs() >= expiredAtMs) return 'expired'
        const version = keysVersion()
        if (version === checkedVersion && revocationsVersion(revocations) === checkedRevocations) return 'held'
        // Its key gone from the set: it cannot verify, told without a check, so its stream ends at the reload rather
        // than when its turn among the spread re-checks comes (up to one more reload interval: review).
        if (kid !== null && version !== kidSeenVersion) {
          if (!jwks?.kids().includes(kid)) return 'expired'
          kidSeenVersion = version
        }
        return 'recheck'
      },
      check: async () => {
        const version = keysVersion()
        const revocationsSeen = revocationsVersion(revocations)
        try {
          await verify(token)
        } catch {
          return false
        }
        checkedVersion = version
        checkedRevocations = revocationsSeen
        return true
      },
    }
  }

  return {
    verify,
    verifyCached: (token) => cachedPrincipal(token, nowMs()),
    useRevocations: (source) => {
      revocations = source
    },
    watch,
    keysReloadMs: jwks === undefined ? null : options.jwksReloadMs,
    reloadKeys: async () => {
      await jwks?.reload()
    },
    jwksStatus: () => jwks?.status() ?? null,
    close: () => jwks?.close(),
  }
}

const OUTLIVES_REVOCATION = `exp is more than ${TOKEN_LIFE_MS_MAX / 86_400_000} days after iat: a revocation of the token could not outlast it`

/**
 * Whether the token is good for longer than a revocation of it can last (TOKEN_LIFE_MS_MAX after its iat, the clock
 * tolerance aside: domain/revocations.ts): jose has checked both claims are present and numbers. Such a token (an
 * identity provider's year-long one, an exp set far ahead) was taken, and once revoked it worked again 30 days later,
 * while still good.
 */
function outlivesRevocation(payload: Record<string, unknown>): boolean {
  return (payload.exp as number) * 1000 - (payload.iat as number) * 1000 > TOKEN_LIFE_MS_MAX
}

/** What a refusal for a claim jose found missing says (`the "iat" claim is required`); undefined for another. */
function missingClaimOf(error: unknown): string | undefined {
  return error instanceof errors.JWTClaimValidationFailed && error.reason === 'missing' ? `the "${error.claim}" claim is required` : undefined
}

/**
 * The kid of a token signed with a JWKS key, read without verifying: only for a token verified already; null for an
 * HS256 one (its key is no JWKS key) or one without a kid.
 */
function kidOf(token: string): string | null {
  try {
    const header = decodeProtectedHeader(token)
    return header.alg !== HS256 && typeof header.kid === 'string' ? header.kid : null
  } catch {
    return null
  }
}

/** The token's exp claim (seconds), read without verifying: only for a token verified already. */
function expOf(token: string): number | null {
  try {
    const { exp } = decodeJwt(token)
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : null
  } catch {
    return null
  }
}

export type RejectReason =
  | 'missing'
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'critical_header_unsupported'
  | 'wrong_type'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'claims_invalid'
  | 'jwks_stale'
  | 'invalid'

const REASON_MESSAGES: Record<RejectReason, string> = {
  missing: 'a bearer token is required: send "Authorization: Bearer <token>"',
  malformed: 'the token is malformed',
  algorithm_not_allowed: 'the token algorithm is not allowed',
  critical_header_unsupported: 'the token names a critical header extension (crit) that is not supported',
  wrong_type: 'the token type (typ) is not an access token (JWT or at+jwt)',
  unknown_key: 'the token key id is not trusted',
  bad_signature: 'the token signature is invalid: it was altered, or signed with a key this gateway does not hold (`egress token` run on another data directory or config, or before its secret changed); get a new token',
  expired: 'the token has expired: get a new one',
  not_yet_valid: 'the token is not valid yet',
  wrong_issuer: 'the token issuer is not accepted',
  wrong_audience: 'the token audience is not accepted',
  claims_invalid: 'the token claims are invalid',
  jwks_stale: 'the trusted key set is stale (the JWKS file has not been read successfully within its grace)',
  invalid: 'the token is invalid',
}

/** The 401 for a rejected token; `WWW-Authenticate` per RFC 6750. */
export function unauthenticated(reason: RejectReason, detail?: string): ApiError {
  const message = detail === undefined ? REASON_MESSAGES[reason] : `${REASON_MESSAGES[reason]}: ${detail}`
  const challenge = reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"'
  return new ApiError('UNAUTHENTICATED', message, { details: { reason }, headers: { 'WWW-Authenticate': challenge } })
}

/** The header `typ` values of an access token: absent, `JWT` (RFC 7519) or `at+jwt` (RFC 9068). */
const ACCESS_TOKEN_TYPES: ReadonlySet<string | undefined> = new Set([undefined, 'jwt', 'at+jwt'])

/** `typ` compared as RFC 7515 §4.1.9 says: case-insensitively, `application/` implied when there is no other slash. */
function normalizedTyp(typ: unknown): string | undefined {
  if (typ === undefined) return undefined
  if (typeof typ !== 'string') return '(not a string)'
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
}

/** Whether the token's protected header carries `crit` (read without verifying, only to name a refusal). */
function hasCritHeader(token: string): boolean {
  try {
    return decodeProtectedHeader(token).crit !== undefined
  } catch {
    return false
  }
}

function reasonFor(error: unknown, token: string): RejectReason {
  if (error instanceof JwksStaleError) return 'jwks_stale'
  // jose refuses an extension it does not recognise with JOSENotSupported, as it does an unsupported algorithm.
  if (error instanceof errors.JOSENotSupported && hasCritHeader(token)) return 'critical_header_unsupported'
  if (error instanceof errors.JWTExpired) return 'expired'
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'not_yet_valid'
    if (error.claim === 'iss') return 'wrong_issuer'
    if (error.claim === 'aud') return 'wrong_audience'
    return 'claims_invalid'
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'algorithm_not_allowed'
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key'
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature'
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed'
  return 'invalid'
}

/**
 * A member named twice in the token's header or payload, said as a problem, or null. jose reads them with JSON.parse,
 * which keeps the last (`"roles":["trader"],"roles":["admin"]` is an admin), while another reader of the same signed
 * token (a proxy, an audit tap) may keep the first: one token, two principals. Refused, as request bodies with a
 * repeated member are (duplicate-members.ts). Called on a token jose has verified, so both parts are valid JSON.
 */
function repeatedMemberOf(token: string): string | null {
  const [header = '', payload = ''] = token.split('.', 2)
  for (const [part, text] of [['header', header], ['payload', payload]] as const) {
    const name = firstDuplicateMember(new TextDecoder().decode(base64url.decode(text)))
    if (name !== null) return `the token's ${part} names ${JSON.stringify(name)} twice`
  }
  return null
}
