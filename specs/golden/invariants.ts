/**
 * Invariants every golden trace checks after every step, whatever its script: at most one venue order per egress
 * order (the sim venue's own ledger is the witness), reservations never negative, never above the worst case reserved
 * (the larger of the order's and a pending amend's), zero at terminal states, and each account's held amount equal to
 * the sum its open orders hold.
 */

import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import { orderIdFromClientId } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import type { KernelState } from '../../src/kernel/index.ts'
import type { SimInspection } from '../../src/venues/sim/index.ts'

export function invariantViolations(state: KernelState, venue: SimInspection): string[] {
  const problems: string[] = []
  const venueOrdersPerOrder = new Map<string, number>()
  for (const venueOrder of venue.orders) {
    const orderId = orderIdFromClientId(venueOrder.clientOrderIds[0] ?? '')
    if (orderId === null) {
      problems.push(`venue order ${venueOrder.venueOrderId} carries a client id egress did not make`)
      continue
    }
    venueOrdersPerOrder.set(orderId, (venueOrdersPerOrder.get(orderId) ?? 0) + 1)
  }
  for (const [orderId, count] of venueOrdersPerOrder) {
    if (count > 1) problems.push(`order ${orderId} has ${count} venue orders (double send)`)
    if (!state.orders.has(orderId)) problems.push(`venue holds order ${orderId} that egress does not know`)
  }
  const held = new Map<string, Units>()
  for (const order of state.orders.values()) {
    const { total, remaining, asset } = order.reservation
    if (remaining < 0n) problems.push(`order ${order.orderId} reservation is negative (${formatDecimal(remaining)})`)
    // While an amend is pending the order holds the larger of its old and its new worst case.
    const pendingAmend = order.amend !== null && order.amend.stage !== 'failed' ? order.amend.reservationTotal : 0n
    const ceiling = total > pendingAmend ? total : pendingAmend
    if (remaining > ceiling) problems.push(`order ${order.orderId} holds ${formatDecimal(remaining)} of ${formatDecimal(ceiling)} reserved`)
    if (isTerminal(order.status) && remaining !== 0n) {
      problems.push(`order ${order.orderId} is ${order.status} but still holds ${formatDecimal(remaining)} ${asset}`)
    }
    if (order.cumQty < 0n || order.cumQty > order.qty) problems.push(`order ${order.orderId} cumQty ${formatDecimal(order.cumQty)} outside 0..${formatDecimal(order.qty)}`)
    const key = `${order.accountId}/${asset}`
    held.set(key, (held.get(key) ?? 0n) + remaining)
  }
  for (const [accountId, ledger] of state.accounts) {
    for (const [asset, reserved] of ledger.reserved) {
      if (reserved < 0n) problems.push(`account ${accountId} reserves a negative ${asset} amount`)
      const expected = held.get(`${accountId}/${asset}`) ?? 0n
      if (reserved !== expected) {
        problems.push(`account ${accountId} reserves ${formatDecimal(reserved)} ${asset} but its orders hold ${formatDecimal(expected)}`)
      }
    }
  }
  for (const [key, amount] of held) {
    const [accountId, asset] = key.split('/') as [string, string]
    if (amount > 0n && !state.accounts.get(accountId)?.reserved.has(asset)) {
      problems.push(`orders of ${accountId} hold ${formatDecimal(amount)} ${asset} the account does not reserve`)
    }
  }
  return problems
}
