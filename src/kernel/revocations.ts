/**
 * Token revocation in the kernel (src/domain/revocations.ts): an admin revokes one token (by jti) or a subject's tokens
 * issued before a time; the decision is a record, so the set of revocations is a projection of the log like every
 * other — replayed at a start, kept by snapshots, followed by a standby. The HTTP layer refuses a revoked token
 * (401 TOKEN_REVOKED) by reading this set.
 */

import type { EventOf } from '../domain/events/index.ts'
import {
  REVOCATION_MS_MAX,
  REVOCATION_NOTE_CHARS_MAX,
  REVOCATIONS_MAX,
  revocationsAlive,
  subjectKey,
  type Revocations,
} from '../domain/revocations.ts'
import { DONE_REPLY, type Decision, type RevokeTokenCommand } from './commands.ts'
import { mayChangeMode } from './permissions.ts'
import { attributed, attributionOf } from './attribution.ts'
import type { KernelState } from './state.ts'

export function decideRevokeToken(state: KernelState, command: RevokeTokenCommand): Decision {
  if (!mayChangeMode(command.principal)) return refused('PERMISSION_DENIED', 'revoking tokens needs admin')
  const { nowMs, untilMs } = command
  if (!Number.isSafeInteger(untilMs) || untilMs <= nowMs || untilMs > nowMs + REVOCATION_MS_MAX) {
    return refused('SYNTAX_INVALID', `a revocation ends after its time and within ${REVOCATION_MS_MAX} ms of it, got untilMs ${untilMs} at ${nowMs}`)
  }
  if (command.note.length > REVOCATION_NOTE_CHARS_MAX) return refused('SYNTAX_INVALID', `a revocation's note is at most ${REVOCATION_NOTE_CHARS_MAX} characters`)
  const at = { atMs: nowMs, untilMs, principalId: command.principal.id, note: command.note }
  const attribution = attributionOf(state, command)
  if (command.target === 'token') {
    if (full(state.revocations, nowMs, { jti: command.jti })) return fullRefusal()
    return { events: [attributed({ type: 'auth.token_revoked', jti: command.jti, ...at }, attribution)], reply: DONE_REPLY }
  }
  if (!Number.isSafeInteger(command.issuedBeforeMs) || command.issuedBeforeMs < 0 || command.issuedBeforeMs > nowMs) {
    return refused('SYNTAX_INVALID', `issuedBeforeMs is at most the revocation's time (${nowMs}), got ${command.issuedBeforeMs}`)
  }
  if (full(state.revocations, nowMs, { subKey: subjectKey(command.sub) })) return fullRefusal()
  return { events: [attributed({ type: 'auth.subject_revoked', sub: command.sub, issuedBeforeMs: command.issuedBeforeMs, ...at }, attribution)], reply: DONE_REPLY }
}

/**
 * Applies a revocation: first drops every entry ended by the record's time (so the set holds live entries only, and
 * the decision's bound holds for it), then sets the entry. A second revocation of the same token or subject widens
 * it — the later end, the later issue bound — never narrows it: a revocation is not undone by another.
 */
export function applyRevocation(state: KernelState, event: EventOf<'auth.token_revoked' | 'auth.subject_revoked'>, lsn: number): void {
  const revocations = state.revocations
  prune(revocations, event.atMs)
  revocations.recorded += 1
  const at = { atMs: event.atMs, principalId: event.principalId, note: event.note, lsn }
  if (event.type === 'auth.token_revoked') {
    const before = revocations.tokens.get(event.jti)
    revocations.tokens.set(event.jti, { jti: event.jti, untilMs: Math.max(event.untilMs, before?.untilMs ?? 0), ...at })
    return
  }
  const key = subjectKey(event.sub)
  const before = revocations.subjects.get(key)
  revocations.subjects.set(key, {
    sub: event.sub,
    issuedBeforeMs: Math.max(event.issuedBeforeMs, before?.issuedBeforeMs ?? 0),
    untilMs: Math.max(event.untilMs, before?.untilMs ?? 0),
    ...at,
  })
}

function prune(revocations: Revocations, nowMs: number): void {
  for (const [jti, entry] of revocations.tokens) if (entry.untilMs <= nowMs) revocations.tokens.delete(jti)
  for (const [key, entry] of revocations.subjects) if (entry.untilMs <= nowMs) revocations.subjects.delete(key)
}

function full(revocations: Revocations, nowMs: number, except: { jti?: string; subKey?: string }): boolean {
  return revocationsAlive(revocations, nowMs, except) >= REVOCATIONS_MAX
}

function fullRefusal(): Decision {
  return refused('REVOCATIONS_FULL', `${REVOCATIONS_MAX} revocations are in force; each leaves when its untilMs passes`)
}

function refused(reason: 'PERMISSION_DENIED' | 'SYNTAX_INVALID' | 'REVOCATIONS_FULL', detail: string): Decision {
  return { events: [], reply: { kind: 'refused', reason, detail } }
}
