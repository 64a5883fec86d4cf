/**
 * replay-verify's comparison of a rebuilt state with a snapshot whose amends hold no request time of their own. A
 * kernel-state section of format 23 or older did not hold an amend's requestedAtMs (format 24): it is read as the
 * order's acceptance (state-codec-older.ts amendFromV23), and a gateway restored from one keeps that value in the
 * snapshots it takes while the amend still waits. Replaying the log gives the request's own time, later, so such a
 * snapshot differed from its rebuild in that one member: replay-verify reported DIFFERENCES FOUND (exit 65) on a data
 * directory upgraded with an amend waiting, intact. Compared here with the rebuilt amend taking the acceptance where the
 * snapshot holds it: every other member of the order, and of the state, is still compared.
 */

import type { Order } from '../../domain/orders.ts'
import type { KernelState } from '../../kernel/index.ts'

/**
 * `rebuilt` with each order's amend asked at the order's acceptance where `snapshot` holds that amend (same amendId and
 * stage) so and the rebuild holds a later time; null when no order differs so (the states are compared as they are).
 * Never changes `rebuilt` (the replay's own state): the orders changed are copies, in a new map.
 */
export function withAmendsAsReadFromOlder(rebuilt: KernelState, snapshot: KernelState): { state: KernelState; orders: number } | null {
  const changed: Order[] = []
  for (const held of snapshot.orders.values()) {
    const amend = held.amend
    if (amend === null || amend.requestedAtMs !== held.acceptedAtMs) continue
    const order = rebuilt.orders.get(held.orderId)
    const own = order?.amend
    if (order === undefined || own === null || own === undefined) continue
    if (own.amendId !== amend.amendId || own.stage !== amend.stage || own.requestedAtMs === order.acceptedAtMs) continue
    changed.push({ ...order, amend: { ...own, requestedAtMs: order.acceptedAtMs } })
  }
  if (changed.length === 0) return null
  const orders = new Map(rebuilt.orders)
  for (const order of changed) orders.set(order.orderId, order)
  return { state: { ...rebuilt, orders }, orders: changed.length }
}
