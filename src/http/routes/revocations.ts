/**
 * Token revocation (spec 004 §9, §14; src/kernel/revocations.ts): `POST /v1/admin/revocations` (admin) revokes one
 * token by its `jti`, or every token of a subject issued before a time, until `until_ms`; the answer comes once the
 * record is durable, and from then on the token gets 401 TOKEN_REVOKED on this node (and on a standby once it has the
 * record). `GET /v1/admin/revocations` (ops, auditor, admin) lists the revocations in force.
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { REVOCATION_MS_MAX, REVOCATION_NOTE_CHARS_MAX, REVOCATIONS_MAX, subjectKey, type SubjectRevocation, type TokenRevocation } from '../../domain/revocations.ts'
import type { RevokeTokenRequest } from '../../kernel/index.ts'
import { canChangeMode, canReadEvery, principalOf, requireRole, type AuthEnv } from '../auth/index.ts'
import { readJson } from '../body.ts'
import { ApiError, parseOrThrow, reasonError, type ValidationIssue } from '../errors.ts'
import { kernelPrincipal } from '../principal.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'
import { durableAnswer, requireReady, runCommand } from './support.ts'

/**
 * `until_ms` when the request gives none: the longest a revocation may last (30 days and 10 minutes), which outlives
 * every token the verifier takes (30 days after its iat, plus the clock tolerance twice: domain/revocations.ts). A
 * shorter default (it was 24 h, `egress token`'s default cap) let the revocation of a longer-lived token — a raised cap,
 * an identity provider's — lapse while the token was still good, and the token worked again. Give the token's
 * `exp` × 1000 plus the clock tolerance to free its slot sooner.
 */
export const REVOCATION_MS_DEFAULT = REVOCATION_MS_MAX

const id = (what: string) => v.pipe(v.string('expected a string'), v.regex(/^[\x21-\x7e]{1,128}$/, `expected ${what}: 1–128 printable ASCII characters without spaces`))
const ms = v.pipe(
  v.number('expected an integer number of ms since the epoch'),
  v.safeInteger('expected an integer number of ms since the epoch'),
  v.minValue(0, 'expected an integer number of ms since the epoch'),
)

export const REVOCATION_BODY_SCHEMA = v.strictObject({
  /** One token: its `jti` claim. */
  jti: v.exactOptional(id('a token id (jti)')),
  /** Every token of this subject (any letter case) issued before issued_before_ms. */
  sub: v.exactOptional(id('a token subject (sub)')),
  /** With sub: tokens issued (iat_ms, else iat × 1000) before this are refused; default now. */
  issued_before_ms: v.exactOptional(ms),
  /** When it ends (the token's exp × 1000 plus the clock tolerance, or later); default and at most now + 30 days 10 min. */
  until_ms: v.exactOptional(ms),
  note: v.exactOptional(v.pipe(v.string('expected a string'), v.maxLength(REVOCATION_NOTE_CHARS_MAX, `expected at most ${REVOCATION_NOTE_CHARS_MAX} characters`)), ''),
})

type RevocationBody = v.InferOutput<typeof REVOCATION_BODY_SCHEMA>

export function revocationRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.post('/v1/admin/revocations', requireRole('admin'), async (c) => {
    const principal = principalOf(c)
    if (!canChangeMode(principal)) throw new ApiError('FORBIDDEN', 'revoking tokens needs the admin role')
    queryOf(c, NO_QUERY)
    const body = parseOrThrow(REVOCATION_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax }))
    requireReady(services)
    const request = requestOf(body, kernelPrincipal(principal), services.gateway.clock.nowMs())
    return revoke(c, services, request)
  })
  app.get('/v1/admin/revocations', requireRole('ops', 'auditor', 'admin'), (c) => {
    if (!canReadEvery(principalOf(c))) throw new ApiError('FORBIDDEN', 'revocations need the ops, auditor or admin role')
    queryOf(c, NO_QUERY)
    const nowMs = services.gateway.clock.nowMs()
    const { tokens, subjects } = services.gateway.engine.state.revocations
    const revocations = [...[...tokens.values()].map(tokenJson), ...[...subjects.values()].map(subjectJson)].filter((entry) => entry.until_ms > nowMs)
    return durableAnswer(c, services, { revocations, count: revocations.length, entries_max: REVOCATIONS_MAX })
  })
  return app
}

/** The kernel's request for a parsed body, or VALIDATION_FAILED naming each member that does not fit (nothing recorded). */
function requestOf(body: RevocationBody, principal: RevokeTokenRequest['principal'], nowMs: number): RevokeTokenRequest {
  const issues: ValidationIssue[] = []
  if ((body.jti === undefined) === (body.sub === undefined)) issues.push({ path: '', message: 'expected exactly one of jti (one token) or sub (a subject\'s tokens)' })
  if (body.jti !== undefined && body.issued_before_ms !== undefined) issues.push({ path: 'issued_before_ms', message: 'expected only with sub' })
  const untilMs = body.until_ms ?? nowMs + REVOCATION_MS_DEFAULT
  if (untilMs <= nowMs) issues.push({ path: 'until_ms', message: `expected a time after now (${nowMs})` })
  if (untilMs > nowMs + REVOCATION_MS_MAX) issues.push({ path: 'until_ms', message: `expected at most now + ${REVOCATION_MS_MAX} ms (30 days and 10 minutes), ${nowMs + REVOCATION_MS_MAX}` })
  const issuedBeforeMs = body.issued_before_ms ?? nowMs
  if (issuedBeforeMs > nowMs) issues.push({ path: 'issued_before_ms', message: `expected a time not after now (${nowMs})` })
  const first = issues[0]
  if (first !== undefined) throw new ApiError('VALIDATION_FAILED', `${first.path || 'body'}: ${first.message}`, { details: { issues } })
  if (body.jti !== undefined) return { target: 'token', principal, jti: body.jti, untilMs, note: body.note }
  return { target: 'subject', principal, sub: body.sub as string, issuedBeforeMs, untilMs, note: body.note }
}

async function revoke(c: Context<AuthEnv>, services: Services, request: RevokeTokenRequest): Promise<Response> {
  const result = await runCommand(c, () => services.gateway.revokeToken(request))
  if (result.reply.kind === 'refused') throw reasonError(result.reply.reason, { details: { detail: result.reply.detail } })
  // The entry as this decision left it (widened by an earlier revocation of the same token or subject, if any).
  const { tokens, subjects } = services.gateway.engine.state.revocations
  const entry = request.target === 'token' ? tokens.get(request.jti) : subjects.get(subjectKey(request.sub))
  const revocation = entry === undefined ? null : 'jti' in entry ? tokenJson(entry) : subjectJson(entry)
  return c.json({ revocation, lsn: result.lsn })
}

function tokenJson(entry: TokenRevocation): { until_ms: number } & Record<string, unknown> {
  return { kind: 'token', jti: entry.jti, until_ms: entry.untilMs, revoked_at_ms: entry.atMs, revoked_by: entry.principalId, note: entry.note, lsn: entry.lsn }
}

/**
 * `iat_only_from_ms`: from when the subject's new tokens whose issue time is known only to the second (no `iat_ms`: an
 * identity provider's) are accepted — issued_before_ms rounded up to a whole second, for such a token's `iat` counts
 * from the start of its second (revocation-check.ts). A token `egress token` mints carries `iat_ms` and is accepted
 * from issued_before_ms itself.
 */
function subjectJson(entry: SubjectRevocation): { until_ms: number } & Record<string, unknown> {
  return {
    kind: 'subject', sub: entry.sub, issued_before_ms: entry.issuedBeforeMs, iat_only_from_ms: Math.ceil(entry.issuedBeforeMs / 1000) * 1000,
    until_ms: entry.untilMs, revoked_at_ms: entry.atMs, revoked_by: entry.principalId, note: entry.note, lsn: entry.lsn,
  }
}
