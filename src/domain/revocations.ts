/**
 * Token revocations (spec 004 §9 auth, §14 security) as the kernel holds them: the bearer tokens the gateway refuses
 * before they expire. Two kinds, each a record in the log (`auth.token_revoked` 261, `auth.subject_revoked` 262):
 *
 * - one token, by its `jti`, until `untilMs` (the token's own expiry plus the verifier's clock tolerance, or later:
 *   after it the token is refused anyway);
 * - every token of a subject (`sub`, in any letter case, as the two-admin rule reads subjects) issued before
 *   `issuedBeforeMs` (its `iat` in ms; a token without `iat`, which the verifier refuses, counts as issued before),
 *   until `untilMs`.
 *
 * An entry ends at its untilMs: it is no longer matched from then on, and it leaves the kernel state at the next
 * revocation record (applied, it drops every entry ended by its time), so the set holds only live entries and at most
 * REVOCATIONS_MAX of them (a revocation that would exceed it is refused, REVOCATIONS_FULL). Pure: no clock — whether an
 * entry matches is asked at a time.
 */

/** Hard bound on the entries (tokens and subjects together) alive at once. */
export const REVOCATIONS_MAX = 10_000

/** The longest a token is taken for after its `iat` (its exp at most this after it): 30 days (http/auth/verifier.ts). */
export const TOKEN_LIFE_MS_MAX = 30 * 24 * 3600 * 1000

/** The largest clock tolerance the token verifier may be configured with (config auth.clockToleranceSec). */
export const CLOCK_TOLERANCE_SEC_MAX = 300

/**
 * The longest a revocation may last from the time it is recorded (the default of POST /v1/admin/revocations): a token's
 * life (TOKEN_LIFE_MS_MAX) plus twice the largest clock tolerance, 30 days and 10 minutes. The verifier takes a token
 * until its exp plus the tolerance, and an `iat` up to the tolerance ahead of its clock (an issuer's clock running
 * ahead), so a 30-day token revoked at once is taken until 30 days plus twice the tolerance after the revocation: one
 * of 30 days lapsed first, and the token worked again for that while. The largest tolerance, not the configured one:
 * the kernel has no auth config, and a tolerance raised by a restart must not shorten the revocations recorded before.
 */
export const REVOCATION_MS_MAX = TOKEN_LIFE_MS_MAX + 2 * CLOCK_TOLERANCE_SEC_MAX * 1000

/** An operator's note on a revocation: bounded like the other operators' notes. */
export const REVOCATION_NOTE_CHARS_MAX = 256

export interface TokenRevocation {
  jti: string
  untilMs: number
  /** When it was recorded, by whom, why, at which LSN (the latest record for this jti). */
  atMs: number
  principalId: string
  note: string
  lsn: number
}

export interface SubjectRevocation {
  /** The subject as the revocation named it; matched in any letter case. */
  sub: string
  issuedBeforeMs: number
  untilMs: number
  atMs: number
  principalId: string
  note: string
  lsn: number
}

export interface Revocations {
  /** jti → its revocation. */
  tokens: Map<string, TokenRevocation>
  /** The subject in lower case → its revocation. */
  subjects: Map<string, SubjectRevocation>
  /** Revocation records applied, ever: a change of it tells a follower of a token (an SSE stream) to check it again. */
  recorded: number
}

export function emptyRevocations(): Revocations {
  return { tokens: new Map(), subjects: new Map(), recorded: 0 }
}

export function cloneRevocations(revocations: Revocations): Revocations {
  return {
    tokens: new Map([...revocations.tokens].map(([jti, entry]) => [jti, { ...entry }])),
    subjects: new Map([...revocations.subjects].map(([key, entry]) => [key, { ...entry }])),
    recorded: revocations.recorded,
  }
}

/** The key a subject's revocation is held under: its subject in lower case. */
export function subjectKey(sub: string): string {
  return sub.toLowerCase()
}

/** What a verified token says about itself, as revocations read it. */
export interface TokenFacts {
  jti: string | null
  /** subjectKey(sub). */
  subKey: string
  /** The token's `iat` in ms, or null without one. */
  issuedAtMs: number | null
}

/** The revocation that refuses `token` at `nowMs`, or null. */
export function revocationOf(revocations: Revocations, token: TokenFacts, nowMs: number): TokenRevocation | SubjectRevocation | null {
  if (token.jti !== null) {
    const entry = revocations.tokens.get(token.jti)
    if (entry !== undefined && entry.untilMs > nowMs) return entry
  }
  const subject = revocations.subjects.get(token.subKey)
  if (subject === undefined || subject.untilMs <= nowMs) return null
  return token.issuedAtMs === null || token.issuedAtMs < subject.issuedBeforeMs ? subject : null
}

/** How many entries are alive (not ended) at `nowMs`, leaving out the ones `except` would replace. */
export function revocationsAlive(revocations: Revocations, nowMs: number, except: { jti?: string; subKey?: string } = {}): number {
  let count = 0
  for (const [jti, entry] of revocations.tokens) if (entry.untilMs > nowMs && jti !== except.jti) count++
  for (const [key, entry] of revocations.subjects) if (entry.untilMs > nowMs && key !== except.subKey) count++
  return count
}
