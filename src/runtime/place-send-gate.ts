/**
 * The place-send gate (Engine.placeSendGate): under synchronous HA replication, a decision that requests a venue place
 * or amend is handed back to its caller (the executor, which then calls the venue) only once the standby holds its
 * last record (src/runtime/ha/leader-sync.ts). Which decisions wait, and how an answer waits, live here; the engine
 * only asks.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Committed, SendGateVerdict } from './engine-types.ts'

/**
 * Resolves for the LSN of a decision's last record once the venue call may be made (`{ send: true }`) or must be held
 * (`{ send: false }`, the standby did not confirm in time under fail_closed); rejects when the call must not happen
 * (the node stopped leading).
 */
export type PlaceSendGate = (lsn: number) => Promise<SendGateVerdict>

/** Send records whose venue call waits for the standby. Cancels do not (risk-reducing; a repeat is refused by the venue). */
const GATED_SENDS: ReadonlySet<string> = new Set(['order.send_requested', 'order.amend_send_requested'])

export function requestsGatedSend(events: readonly DomainEvent[]): boolean {
  for (const event of events) if (GATED_SENDS.has(event.type)) return true
  return false
}

/**
 * Answers `committed` through the gate for `lastLsn`: resolved once the gate says, with `sendHeld` when it holds the
 * call; rejected when the gate refuses or throws. Synchronous where the gate is (a throw rejects at once).
 */
export function answerAfterSendGate(
  gate: PlaceSendGate,
  lastLsn: number,
  committed: Committed,
  answer: { resolve: (committed: Committed) => void; reject: (error: unknown) => void },
): void {
  let verdict: Promise<SendGateVerdict>
  try {
    verdict = gate(lastLsn)
  } catch (error) {
    return answer.reject(error)
  }
  verdict.then(
    (held) => {
      if (!held.send) committed.sendHeld = { reason: held.reason, retryAfterMs: held.retryAfterMs }
      answer.resolve(committed)
    },
    (error: unknown) => answer.reject(error),
  )
}
