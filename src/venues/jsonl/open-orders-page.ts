/** The check of one page of a venue's open-order list (JsonlVenueClient.openOrders), against the paging of codec.ts. */

import { truncateDetail } from '../../domain/venue-report-schema.ts'
import type { VenueOrder } from '../adapter.ts'
import { OPEN_ORDERS_PAGE_MAX } from './codec.ts'
import { preview } from './messages.ts'

/**
 * Null when `listed` is a page the venue may give after `after` (server.ts openOrdersPage): at most
 * OPEN_ORDERS_PAGE_MAX orders, in client order id order, each after `after`, none listed twice. One client id may be
 * listed once per account (ids are unique per account only). Only the page's last id was checked: a venue repeating an
 * order (in a page, or from an earlier one) gave a list holding it twice, and the open-order sweep kept whichever copy
 * came last (open-order-listing.ts): a stale copy matching what egress holds confirmed the order, and the fill or
 * cancel the other copy showed was not read back.
 */
export function pageProblem(listed: readonly VenueOrder[], after: string | undefined): string | null {
  if (listed.length > OPEN_ORDERS_PAGE_MAX) return `a page of ${listed.length}, past the ${OPEN_ORDERS_PAGE_MAX} asked`
  const seen = new Set<string>()
  let previous = after
  for (const [index, order] of listed.entries()) {
    const id = order.clientOrderId
    // After `after` strictly; within the page, ids may repeat (other accounts), never go back.
    if (previous !== undefined && (id < previous || (index === 0 && id === previous))) {
      return truncateDetail(`${index}: client order id ${preview(id)} not after ${preview(previous)}`)
    }
    const key = JSON.stringify([order.account, id])
    if (seen.has(key)) return truncateDetail(`${index}: client order id ${preview(id)} of account ${preview(order.account)} listed twice`)
    seen.add(key)
    previous = id
  }
  return null
}
