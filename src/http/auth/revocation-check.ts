/**
 * Refusing revoked tokens (src/kernel/revocations.ts): the verifier asks the revocation set the log built — the
 * gateway's kernel state, on a leader and on a standby alike — after every verification, cached or not, so a token
 * revoked now is refused at its next request (401 TOKEN_REVOKED) although the cache would hold it until its expiry.
 */

import { revocationOf, subjectKey, type Revocations, type TokenFacts } from '../../domain/revocations.ts'
import { ApiError } from '../errors.ts'
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
  const { jti, iat } = payload
  return {
    jti: typeof jti === 'string' ? jti : null,
    subKey: subjectKey(principal.sub),
    issuedAtMs: typeof iat === 'number' && Number.isFinite(iat) ? iat * 1000 : null,
  }
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
