/**
 * Lane membership, derived from order state: Enqueued orders wait in their lane to be placed, AckedOpen/Partial
 * orders with a requested amend wait in Lane2 to be amended, CancelRequested orders wait in Lane0 to be canceled,
 * Unknown orders wait in Lane3 to be reconciled. apply() calls syncQueues after every order change so the queues —
 * and the per-account count of Lane1/Lane2 work — are a pure function of the orders (and therefore replay-equal);
 * queueMismatches checks that they are.
 */

import { assert } from '../domain/assert.ts'
import type { Lane } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import type { KernelState, WorkKind } from './state.ts'
import { noteWorkKept, noteWorkMoved } from './work-index.ts'

export interface Work {
  readonly lane: Lane
  readonly kind: WorkKind
}

// One object per possible answer: workFor runs after every order event, also in replay, and allocates nothing.
const PLACE_IN_LANE: readonly [Work, Work, Work, Work] = [
  { lane: 0, kind: 'place' },
  { lane: 1, kind: 'place' },
  { lane: 2, kind: 'place' },
  { lane: 3, kind: 'place' },
]
const CANCEL: Work = { lane: 0, kind: 'cancel' }
const RECONCILE: Work = { lane: 3, kind: 'reconcile' }
const AMEND: Work = { lane: 2, kind: 'amend' }

export function workFor(order: Order): Work | null {
  switch (order.status) {
    case 'Enqueued':
      return PLACE_IN_LANE[order.lane]
    case 'CancelRequested':
      return CANCEL
    case 'Unknown':
      return RECONCILE
    case 'AckedOpen':
    case 'Partial':
      return order.amend?.stage === 'requested' && !order.cancelWanted ? AMEND : null
    default:
      return null
  }
}

/**
 * Moves the order's queue entry from `before` — workFor(order) before the event changed it (null for a new order) —
 * to workFor(order) now. The queues hold exactly each order's work (the invariant every call keeps), so only those
 * two places can hold the order: an order whose work did not change keeps its place in its queue (FIFO) at no cost,
 * and one whose work changed leaves its old queue and joins the back of its new one. Scanning all four queues per
 * order event instead showed in replay profiles. The entry found at `before` is asserted, and queueMismatches
 * (below) recomputes the whole invariant for the specs. The executor's work index (work-index.ts) is told of each move.
 */
export function syncQueues(state: KernelState, order: Order, before: Work | null): void {
  const after = workFor(order)
  // workFor answers one shared object per (lane, kind): the same object is the same work. A read-back kept may still
  // change its place in the pick (a cancel wanted for an Unknown order), and work set aside while its send was held
  // is looked at again (the record ended the hold): work-index.ts workKept.
  if (after === before) {
    if (after !== null) noteWorkKept(state, order)
    return
  }
  if (before !== null) {
    const queue = state.queues[before.lane]
    if (queue.get(order.orderId) !== before.kind) assert(false, `order ${order.orderId} is not queued for ${before.kind} in lane ${before.lane}`)
    queue.delete(order.orderId)
  }
  if (after !== null) state.queues[after.lane].set(order.orderId, after.kind)
  noteWorkMoved(state, order, before, after)
  const wasCounted = before !== null && (before.lane === 1 || before.lane === 2)
  const isCounted = after !== null && (after.lane === 1 || after.lane === 2)
  if (wasCounted !== isCounted) countQueued(state, order.accountId, isCounted ? 1 : -1)
}

/**
 * Where the queues and the per-account Lane1/Lane2 counts differ from what the orders say they must hold (empty when
 * they agree). O(orders): for specs and offline checks, not for apply.
 */
export function queueMismatches(state: KernelState): string[] {
  const mismatches: string[] = []
  const counted = new Map<string, number>()
  for (const order of state.orders.values()) {
    const work = workFor(order)
    for (let lane = 0; lane < state.queues.length; lane++) {
      const present = state.queues[lane as Lane].get(order.orderId)
      const wanted = work !== null && work.lane === lane ? work.kind : undefined
      if (present !== wanted) mismatches.push(`order ${order.orderId} (${order.status}): lane ${lane} holds ${present ?? 'nothing'}, expected ${wanted ?? 'nothing'}`)
    }
    if (work !== null && (work.lane === 1 || work.lane === 2)) counted.set(order.accountId, (counted.get(order.accountId) ?? 0) + 1)
  }
  for (let lane = 0; lane < state.queues.length; lane++) {
    for (const orderId of state.queues[lane as Lane].keys()) {
      if (!state.orders.has(orderId)) mismatches.push(`lane ${lane} holds ${orderId}, which the state does not hold`)
    }
  }
  for (const accountId of new Set([...counted.keys(), ...state.queuedByAccount.keys()])) {
    const expected = counted.get(accountId) ?? 0
    const held = state.queuedByAccount.get(accountId) ?? 0
    if (held !== expected) mismatches.push(`queuedByAccount ${accountId} is ${held}, expected ${expected}`)
  }
  return mismatches
}

function countQueued(state: KernelState, accountId: string, delta: number): void {
  const next = (state.queuedByAccount.get(accountId) ?? 0) + delta
  if (next < 0) assert(false, `queued work count of ${accountId} would go negative`)
  if (next === 0) state.queuedByAccount.delete(accountId)
  else state.queuedByAccount.set(accountId, next)
}
