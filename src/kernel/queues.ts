/**
 * Lane membership, derived from order state: Enqueued orders wait in their lane to be placed, AckedOpen/Partial
 * orders with a requested amend wait in Lane2 to be amended, CancelRequested orders wait in Lane0 to be canceled,
 * Unknown orders wait in Lane3 to be reconciled. apply() calls syncQueues after every order change so the queues —
 * and the per-account count of Lane1/Lane2 work — are a pure function of the orders (and therefore replay-equal).
 */

import { assert } from '../domain/assert.ts'
import type { Lane } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import type { KernelState, WorkKind } from './state.ts'

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

export function syncQueues(state: KernelState, order: Order): void {
  const wanted = workFor(order)
  let wasNew = false
  // A plain loop, not forEach with a closure: this runs once per order event, also in replay.
  for (let lane = 0; lane < state.queues.length; lane++) {
    const queue = state.queues[lane] as KernelState['queues'][number]
    const present = queue.get(order.orderId)
    if (present !== undefined && (lane === 1 || lane === 2)) wasNew = true
    if (wanted !== null && wanted.lane === lane) {
      if (present !== wanted.kind) {
        queue.delete(order.orderId)
        queue.set(order.orderId, wanted.kind)
      }
    } else if (present !== undefined) {
      queue.delete(order.orderId)
    }
  }
  const isNew = wanted !== null && (wanted.lane === 1 || wanted.lane === 2)
  if (wasNew !== isNew) countQueued(state, order.accountId, isNew ? 1 : -1)
}

function countQueued(state: KernelState, accountId: string, delta: number): void {
  const next = (state.queuedByAccount.get(accountId) ?? 0) + delta
  assert(next >= 0, () => `queued work count of ${accountId} would go negative`)
  if (next === 0) state.queuedByAccount.delete(accountId)
  else state.queuedByAccount.set(accountId, next)
}
