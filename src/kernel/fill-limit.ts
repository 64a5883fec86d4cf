/**
 * The limit a venue fill is held to, and the alert when it is priced through it (inbox.ts emitFill): a fill worse than
 * the limit of the order version it was made under (FILL_PRICE_THROUGH_LIMIT), or a plain market order's beyond the
 * worst price it was reserved at (FILL_PRICE_BEYOND_WORST), is booked as reported and alerted.
 */

import { formatDecimal, type Units } from '../domain/decimal.ts'
import type { Order } from '../domain/orders.ts'
import { loosest } from './amend/evidence.ts'
import type { Emitter } from './emit.ts'

/**
 * The limit a fill is held to; `limit` null: none (a version whose limit the order no longer holds, a plain market
 * order with no worst price recorded). A protected market order's is its protection price, the limit it was sent at; a
 * plain market order's (`worst`) the worst price its reservation was taken at, which nothing at the venue holds it to.
 */
export interface LimitInForce {
  limit: Units | null
  worst?: true
}

export const NO_LIMIT: LimitInForce = { limit: null }

/**
 * The limit in force when the fill was made, by the order version the venue states it under (an execution carries the
 * client id of the version in force when it happened):
 * - the current version (or no id egress knows as a version: a cancel's id, none): the current limit, or the looser
 *   of it and a sent amend's, which the venue may already hold (its replace not yet reported);
 * - an amend not yet applied: that amend's limit;
 * - an earlier version, replaced since: the loosest limit every version has had (`limitLoosest`, and a sent amend's).
 *   The fill was made before the replace took effect, under a limit the order may no longer hold; held to the current
 *   one, a fill within the looser limit of its time raised FILL_PRICE_THROUGH_LIMIT once an amend had tightened it.
 *   Which earlier version it was made under is not known, but a fill past every limit the order has had broke the one
 *   it was made under. Not checked when the loosest is not known (an order amended under a build that did not keep it).
 * So every fill made under the current version that passes the current limit (and a sent amend's) is alerted, and
 * every fill under an earlier one that passes every limit the order has had.
 */
export function limitInForce(draft: Order, clientOrderId: string | undefined): LimitInForce {
  // A market order is never amended: its one version was sent as a limit at its protection price, or as a plain market.
  if (draft.price === null) {
    if (draft.protectionPrice !== null) return { limit: draft.protectionPrice }
    return draft.worstPrice === null ? NO_LIMIT : { limit: draft.worstPrice, worst: true }
  }
  const chain = draft.clientIdChain
  const current = chain[chain.length - 1]
  const amend = draft.amend
  if (clientOrderId !== undefined && clientOrderId !== current) {
    if (amend !== null && clientOrderId === amend.clientOrderId) return { limit: amend.price ?? draft.price }
    if (chain.includes(clientOrderId)) return draft.limitLoosest === null ? NO_LIMIT : { limit: withSentAmend(draft, draft.limitLoosest) }
  }
  return { limit: withSentAmend(draft, draft.price) }
}

/** `limit`, or a sent amend's limit when that is looser: the venue may already hold the amend (its replace not yet reported). */
function withSentAmend(draft: Order, limit: Units): Units {
  const amendPrice = draft.amend?.stage === 'sent' ? draft.amend.price : null
  return amendPrice === null ? limit : loosest(draft, limit, amendPrice)
}

/**
 * A fill priced worse than the limit it was made under (a buy above it, a sell below it; `limitInForce`) happened at
 * the venue, so it is booked as reported; but no venue should fill so, and ops must see it: an alert, and the order's
 * state is left alone. A protected market order's limit is its protection price. A plain market order has none, but a
 * fill beyond the worst price it was reserved at (FILL_PRICE_BEYOND_WORST) is as much news: a buy's spent more than
 * its reservation held, and the account's available balance may be below zero.
 */
export function alertPriceThroughLimit(emitter: Emitter, fill: { execId: string; lastPrice: Units; limit: LimitInForce }, atMs: number): void {
  const { draft } = emitter
  const { limit } = fill.limit
  if (limit === null) return
  const buy = draft.side === 'buy'
  if (buy ? fill.lastPrice <= limit : fill.lastPrice >= limit) return
  const worst = fill.limit.worst === true
  const detail = `fill ${fill.execId} of a ${draft.side} at ${formatDecimal(fill.lastPrice)}, ${buy ? 'above' : 'below'} its ${worst ? 'worst price' : 'limit'} ${formatDecimal(limit)}`
  emitter.events.push({ type: 'alert.raised', atMs, reason: worst ? 'FILL_PRICE_BEYOND_WORST' : 'FILL_PRICE_THROUGH_LIMIT', orderId: draft.orderId, detail })
}
