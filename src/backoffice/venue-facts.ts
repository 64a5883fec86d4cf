/**
 * What the log says of an order's life at its venue beyond what the back office books, kept on the held order
 * (TrackedOrder) for the paper sim's resume (src/runtime/paper-sim-memory.ts): the sim lives in egress's process, and
 * egress's log is the only record of what it held. Neither the kernel's order nor the fill records keep these:
 *
 *  - `venueAcceptedAtMs`: the venue time of the order's `new` report, when the venue took it. A resumed DAY order
 *    expires a day after that, as it would have at the venue; egress's acceptance is earlier by the send queue and the
 *    latency, so a DAY order rebuilt from it expired early.
 *  - `renamedReports`: the fill and `replaced` reports that came under an id other than the order's own (an amend's:
 *    the venue knows the order by it from the replace on), with their execId and venue time. A fill report names the
 *    id of its trade exactly; for a trade egress booked without one (read back from the venue's trade list), the id in
 *    force at its venue time is the latest renamed report's before it (an order's ids only move forward).
 *  - `endedAs`: how an order that went Unknown after it ended (venue news contradicting a cancel or an expiry) had
 *    ended, and when. The venue holds it ended so; the resumed sim does too.
 *
 * Each list or object is replaced, never changed in place: a cloned ledger shares it (ledger-clone.ts). Absent on
 * orders of a back-office section written before they were kept: the resume then falls back as it says.
 */

import type { EventOf } from '../domain/events/index.ts'
import { isTerminal, type OrderState } from '../domain/states.ts'
import type { TrackedOrder } from './orders.ts'

export interface RenamedReport {
  execId: string
  clientOrderId: string
  venueTimeMs: number
}

export interface EndedAs {
  status: OrderState
  /** The atMs of the event that ended it (the ledger's endedOrders entry it had). */
  atMs: number
}

/**
 * Bound on renamed reports kept per order: one per fill, and an order fills in a bounded number of pieces; past it the
 * oldest are dropped (their trades fall back to the rule in the header).
 */
export const RENAMED_REPORTS_MAX = 256

/** Notes what an accepted execution report says of its order (the ledger's fold, for every `inbox.report_accepted`). */
export function noteReportFacts(order: TrackedOrder, report: EventOf<'inbox.report_accepted'>['report']): void {
  if (report.kind === 'new') {
    // The latest: an order resent after its absence was proven is a new venue order, taken when this report says.
    order.venueAcceptedAtMs = report.venueTimeMs
    return
  }
  if ((report.kind !== 'fill' && report.kind !== 'replaced') || report.clientOrderId === order.clientId) return
  const kept = order.renamedReports ?? []
  const noted: RenamedReport = { execId: report.execId, clientOrderId: report.clientOrderId, venueTimeMs: report.venueTimeMs }
  order.renamedReports = kept.length < RENAMED_REPORTS_MAX ? [...kept, noted] : [...kept.slice(1), noted]
}

/**
 * After an order event: an order that left a terminal state (it went Unknown) keeps how it had ended, until its status
 * changes again. `statusBefore`: its status before the event. Called before the ledger's retention files the event
 * (retainEnded), so `endedOrders` still holds the end time it had; read only when the order leaves an end, since this
 * runs for every order event and fill and that lookup is rarely needed.
 */
export function noteEndedAs(order: TrackedOrder, statusBefore: OrderState, endedOrders: ReadonlyMap<string, number>): void {
  if (statusBefore === order.status) return
  if (isTerminal(statusBefore) && !isTerminal(order.status)) order.endedAs = { status: statusBefore, atMs: endedOrders.get(order.orderId) ?? order.updatedAtMs }
  // Any later change (it ended again, was read back open, was resent) makes that end history.
  else if (order.endedAs !== undefined) delete order.endedAs
}

/**
 * The client id the venue used for trade `execId` of an order, executed at `venueTimeMs` (see the header): `order`
 * gives the order's own id (its first) and its renamed reports, absent where the ledger holds none.
 */
export function tradeClientOrderId(
  order: { ownClientOrderId: string; renamedReports: readonly RenamedReport[] | undefined },
  trade: { execId: string; venueTimeMs: number },
): string {
  const renamed = order.renamedReports ?? []
  const own = renamed.find((report) => report.execId === trade.execId)
  if (own !== undefined) return own.clientOrderId
  let inForce: RenamedReport | undefined
  for (const report of renamed) {
    if (report.venueTimeMs <= trade.venueTimeMs && (inForce === undefined || report.venueTimeMs >= inForce.venueTimeMs)) inForce = report
  }
  return inForce?.clientOrderId ?? order.ownClientOrderId
}

/** What is wrong with an order's venue facts as read from a snapshot section, or null (they reach the sim's resume). */
export function venueFactsProblem(order: unknown): string | null {
  const facts = order as { venueAcceptedAtMs?: unknown; renamedReports?: unknown; endedAs?: unknown }
  if (facts.venueAcceptedAtMs !== undefined && !Number.isSafeInteger(facts.venueAcceptedAtMs)) return 'venueAcceptedAtMs is not a time'
  if (facts.renamedReports !== undefined) {
    if (!Array.isArray(facts.renamedReports)) return 'renamedReports is not a list'
    for (const [index, item] of facts.renamedReports.entries()) {
      const report = item as Partial<Record<keyof RenamedReport, unknown>> | null
      const well = typeof report === 'object' && report !== null && typeof report.execId === 'string' && typeof report.clientOrderId === 'string' && Number.isSafeInteger(report.venueTimeMs)
      if (!well) return `renamedReports[${index}] is not a renamed report`
    }
  }
  if (facts.endedAs !== undefined) {
    const endedAs = facts.endedAs as Partial<Record<keyof EndedAs, unknown>> | null
    const well = typeof endedAs === 'object' && endedAs !== null && typeof endedAs.status === 'string' && isTerminal(endedAs.status as OrderState) && Number.isSafeInteger(endedAs.atMs)
    if (!well) return 'endedAs is not an end'
  }
  return null
}
