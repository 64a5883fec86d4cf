/**
 * Minting local HS256 tokens for paper use (`egress token`) and tests. Production tokens come from an identity
 * provider and are verified through the JWKS; the gateway never mints those.
 */

import { SignJWT } from 'jose'
import type { Role } from './principal.ts'

/**
 * The longest lifetime `egress token` mints unless the config's auth.tokenTtlSecMax says otherwise: a day. A leaked
 * token is good until it expires or is revoked (POST /v1/admin/revocations), so a short life bounds the harm.
 */
export const TOKEN_TTL_SEC_MAX_DEFAULT = 24 * 3600

/** The largest auth.tokenTtlSecMax may be: 30 days. */
export const TOKEN_TTL_SEC_MAX_LIMIT = 30 * 24 * 3600

export interface MintOptions {
  sub: string
  roles: readonly Role[]
  accounts: readonly string[]
  issuer: string
  audience: string
  ttlSec: number
  /** Issue time; wall clock by default. */
  nowMs?: number
}

/**
 * The private claim with the issue time in ms (`iat` is in whole seconds). A subject's revocation refuses the tokens
 * issued before a time in ms; by `iat` alone a token minted in the same second just after the revocation counts as
 * issued before it (the conservative reading), so an operator who revokes and at once mints a new token for the user saw
 * it refused for up to a second. revocation-check.ts reads this claim when it lies inside `iat`'s second.
 */
export const ISSUED_AT_MS_CLAIM = 'iat_ms'

/**
 * A signed HS256 JWT with `sub`, `roles`, `accounts`, `iss`, `aud`, `iat`, `nbf`, `exp`, a random `jti` and `iat_ms`
 * (ISSUED_AT_MS_CLAIM: the issue time in ms, `iat` its second).
 */
export async function mintHs256Token(secret: string, options: MintOptions): Promise<string> {
  const issuedAtMs = Math.floor(options.nowMs ?? Date.now())
  const iat = Math.floor(issuedAtMs / 1000)
  return new SignJWT({ roles: [...options.roles], accounts: [...options.accounts], [ISSUED_AT_MS_CLAIM]: issuedAtMs })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + options.ttlSec)
    .setJti(crypto.randomUUID())
    .sign(new TextEncoder().encode(secret))
}
