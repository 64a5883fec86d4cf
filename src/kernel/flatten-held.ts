/**
 * A flatten's first answer, held so that a repeat of it (the same flatten id — its Idempotency-Key — on the same
 * account) answers it byte for byte and decides nothing: no second `account.flatten_requested`, the first one's `lsn`
 * and `not_closed` (the API's idempotency contract, which orders keep through the idempotency index). Held from the
 * record (its `notClosed` and `records`, payload version 11; each holding's reason, version 12), so replay, a restored
 * snapshot and a standby hold the same answers; a record written before version 11 holds none, and its repeat is
 * decided again, as that build did.
 *
 * Bounded as order keys are (key-window.ts): an answer is held for the key window from its decision (with no window
 * configured, for good), and at most FLATTENS_HELD_PER_ACCOUNT_MAX per account; the oldest go first, at the account's
 * next flatten. A repeat past either is a new flatten: recorded with its own lsn, its closes named by the key's new span
 * (flatten.ts), never a second close for a close still held under its key.
 */

import type { EventOf } from '../domain/events/index.ts'
import type { Decision } from './commands.ts'
import { keyAgedOut, keyWindowMs } from './key-window.ts'
import type { HeldFlatten, KernelState } from './state.ts'

/** The answers held per account: a flatten id repeated past this many newer flattens of its account is decided again. */
export const FLATTENS_HELD_PER_ACCOUNT_MAX = 1000

/** The first answer of the flatten `flattenId` of `accountId`, if still held at `nowMs` (within the key window). */
export function heldFlatten(state: KernelState, accountId: string, flattenId: string, nowMs: number): HeldFlatten | null {
  const entry = state.flattens.get(accountId)?.get(flattenId)
  if (entry === undefined) return null
  const windowMs = keyWindowMs(state)
  return windowMs !== null && keyAgedOut(entry.decidedAtMs, windowMs, nowMs) ? null : entry
}

/**
 * At `account.flatten_requested` (LSN `lsn`): holds the flatten's answer, its lsn the last of the `records` its decision
 * wrote, after dropping the account's answers aged out at the record's time or past the bound.
 */
export function holdFlatten(state: KernelState, event: EventOf<'account.flatten_requested'>, lsn: number): void {
  if (event.notClosed === undefined || event.records === undefined) return
  let held = state.flattens.get(event.accountId)
  if (held === undefined) state.flattens.set(event.accountId, (held = new Map()))
  // Decided again (after its window): held anew, at the end of the account's answers.
  held.delete(event.flattenId)
  const windowMs = keyWindowMs(state)
  for (const [flattenId, entry] of held) {
    if (held.size < FLATTENS_HELD_PER_ACCOUNT_MAX && (windowMs === null || !keyAgedOut(entry.decidedAtMs, windowMs, event.atMs))) break
    held.delete(flattenId)
  }
  held.set(event.flattenId, { lsn: lsn + event.records - 1, notClosed: event.notClosed, decidedAtMs: event.atMs })
}

/**
 * The flatten's record counts every record its decision writes from it on, the follow-ups decide.ts adds after the
 * flatten's own included (an OCO list fired by a leg's cancel: order_list.triggered, a sibling's end): counted by
 * decideFlatten alone, the answer held was a record inside the decision, not its last, and the gateway, not finding its
 * lsn held, asked the flatten again, answering the first caller a repeat.
 */
export function withFlattenRecordsCounted(decision: Decision): Decision {
  const index = decision.events.findIndex((event) => event.type === 'account.flatten_requested')
  const requested = decision.events[index] as EventOf<'account.flatten_requested'> | undefined
  if (requested?.records !== undefined) requested.records = decision.events.length - index
  return decision
}
