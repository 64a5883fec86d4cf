/**
 * The state an OCO list's second leg is decided on: the kernel state as if the first leg's `order.accepted` had been
 * applied, in the parts the intake guards read — the account's open-order count and its own open orders (policy: the
 * second leg must not cross the first, own-quotes.ts), its reservations (reservation), the lane's depth, the
 * account's queued work and the idempotency key the first leg takes (lane admission, and the cap on keys held:
 * key-window.ts). The first leg is not applied for real: the list is one decision, recorded whole or not at all, so
 * if the second leg is rejected nothing of the first is left. A view, not a clone: a clone copies every order and the
 * idempotency index, and a list must cost what two orders cost. Everything else is the state itself, read only
 * (decide never writes).
 *
 * Kept beside the guards it serves: a guard that comes to read another part of the state the first leg changes must
 * be given it here too (specs/kernel/order-lists.test.ts checks the reservation, open-order and lane bounds).
 */

import type { EventOf } from '../../domain/events/index.ts'
import { instrumentKey } from '../../domain/instruments.ts'
import { withPendingKey } from '../key-window.ts'
import { withPendingLeg } from '../own-quotes.ts'
import type { AccountLedger, KernelState, WorkKind } from '../state.ts'

export function stateWithLeg(state: KernelState, first: EventOf<'order.accepted'>): KernelState {
  const accountId = first.accountId
  const openOrders = new Map(state.openOrders).set(accountId, (state.openOrders.get(accountId) ?? 0) + 1)
  const queuedByAccount = new Map(state.queuedByAccount).set(accountId, (state.queuedByAccount.get(accountId) ?? 0) + 1)
  const ledger = state.accounts.get(accountId)
  const reserved = new Map(ledger?.reserved ?? [])
  reserved.set(first.reservationAsset, (reserved.get(first.reservationAsset) ?? 0n) + first.reservationAmount)
  const withLedger: AccountLedger = { balances: ledger?.balances ?? new Map(), reserved }
  const accounts = new Map(state.accounts).set(accountId, withLedger)
  const queues: KernelState['queues'] = [...state.queues]
  queues[first.lane] = new QueueWithOne(state.queues[first.lane], first.orderId)
  const view = { ...state, openOrders, queuedByAccount, accounts, queues }
  const leg = { orderId: first.orderId, accountId, instrumentKey: instrumentKey(first.venue, first.symbol), side: first.side, price: first.price }
  return withPendingKey(withPendingLeg(view, leg))
}

/**
 * A lane queue with one more order at its back, read only: a lane may hold up to a million entries, which a list
 * must not copy. Writes are refused (decide never writes).
 */
class QueueWithOne extends Map<string, WorkKind> {
  readonly #base: Map<string, WorkKind>
  readonly #orderId: string

  constructor(base: Map<string, WorkKind>, orderId: string) {
    super()
    this.#base = base
    this.#orderId = orderId
  }

  override get size(): number {
    return this.#base.size + 1
  }

  override has(orderId: string): boolean {
    return orderId === this.#orderId || this.#base.has(orderId)
  }

  override get(orderId: string): WorkKind | undefined {
    return orderId === this.#orderId ? 'place' : this.#base.get(orderId)
  }

  override set(): this {
    throw new Error('a leg view is read only')
  }

  override delete(): boolean {
    throw new Error('a leg view is read only')
  }
}
