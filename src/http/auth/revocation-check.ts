/**
 * Refusing revoked tokens (src/kernel/revocations.ts): the verifier asks the revocation set the log built — the
 * gateway's kernel state, on a leader and on a standby alike — after every verification, cached or not, so a token
 * revoked now is refused at its next request (401 TOKEN_REVOKED) although the cache would hold it until its expiry.
 */

import { revocationOf, subjectKey, type Revocations, type TokenFacts } from '../../domain/revocations.ts'
import { ApiError } from '../errors.ts'
import { ISSUED_AT_MS_CLAIM } from './mint.ts'
import type { Principal } from './principal.ts'

/** The revocation set in force now (read at each request: the state it lives in may be replaced, by a restore). */
export type RevocationSource = () => Revocations

/** A verified token as the cache keeps it: its principal and what revocations match on. */
export interface VerifiedToken {
  principal: Principal
  facts: TokenFacts
}

/** What revocations match on, from a verified token's claims. */
export function tokenFactsOf(payload: Record<string, unknown>, principal: Principal): TokenFacts {
  const { jti } = payload
  return { jti: typeof jti === 'string' ? jti : null, subKey: subjectKey(principal.sub), issuedAtMs: issuedAtMsOf(payload) }
}

/**
 * The token's issue time in ms, as a subject's revocation compares it (refused when before its issued_before_ms):
 * `iat_ms` (ISSUED_AT_MS_CLAIM, which `egress token` mints) when it is an integer inside the second `iat` names — it
 * is signed with `iat`, and cannot move the time out of that second, so it can only tell a token minted just after a
 * revocation from one minted just before it in the same second; otherwise `iat` × 1000 (the start of its second:
 * a token revoked at 12:00:00.300 and minted at 12:00:00.500 without `iat_ms` is refused, never the reverse); null
 * without `iat` (counted as issued before).
 */
export function issuedAtMsOf(payload: Record<string, unknown>): number | null {
  const { iat } = payload
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return null
  const iatMs = payload[ISSUED_AT_MS_CLAIM]
  if (Number.isInteger(iat) && Number.isSafeInteger(iatMs) && Math.floor((iatMs as number) / 1000) === iat) return iatMs as number
  return iat * 1000
}

/** Throws 401 TOKEN_REVOKED when `source` holds a revocation of the token at `nowMs`. */
export function refuseRevoked(source: RevocationSource | null, facts: TokenFacts, nowMs: number): void {
  if (source === null) return
  const revocations = source()
  if (revocations.tokens.size === 0 && revocations.subjects.size === 0) return
  const entry = revocationOf(revocations, facts, nowMs)
  if (entry === null) return
  const kind = 'jti' in entry ? 'token' : 'subject'
  throw new ApiError('TOKEN_REVOKED', kind === 'token' ? 'the token has been revoked' : "the token's subject had its tokens revoked", {
    details: { reason: 'revoked', revoked: kind, lsn: entry.lsn },
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  })
}

/** The revocation set's change count (0 without a source): a stream following a token checks it again when it moves. */
export function revocationsVersion(source: RevocationSource | null): number {
  return source === null ? 0 : source().recorded
}
