/** The check of one page of a venue's open-order list (JsonlVenueClient.openOrders), against the paging of codec.ts. */

import { truncateDetail } from '../../domain/venue-report-schema.ts'
import type { VenueOrder } from '../adapter.ts'
import { OPEN_ORDERS_PAGE_MAX } from './codec.ts'
import { preview } from './messages.ts'

/** Where the next page begins: after the last order of the page before (its client order id, then its account). */
export interface PageCursor {
  clientOrderId: string
  account: string
}

/**
 * Null when `listed` is a page the venue may give after `after` (server.ts openOrdersPage): at most
 * OPEN_ORDERS_PAGE_MAX orders, in client order id order, the first after `after` (by client id, then account: an older
 * venue, paging by the id alone, begins past it), none listed twice in the listing (`seen`: every (account, client id)
 * of its pages so far, this one's added). One client id may be listed once per account (ids are unique per account
 * only). Only the page's last id was checked: a venue repeating an order (in a page, or from an earlier one) gave a list
 * holding it twice, and the open-order sweep kept whichever copy came last (open-order-listing.ts): a stale copy
 * matching what egress holds confirmed the order, and the fill or cancel the other copy showed was not read back.
 */
export function pageProblem(listed: readonly VenueOrder[], after: PageCursor | undefined, seen: Set<string>): string | null {
  if (listed.length > OPEN_ORDERS_PAGE_MAX) return `a page of ${listed.length}, past the ${OPEN_ORDERS_PAGE_MAX} asked`
  let previous = after?.clientOrderId
  for (const [index, order] of listed.entries()) {
    const id = order.clientOrderId
    // After the cursor strictly; within the page, ids may repeat (other accounts), never go back.
    const first = index === 0 && after !== undefined
    const back = first ? !(id > after.clientOrderId || (id === after.clientOrderId && order.account > after.account)) : previous !== undefined && id < previous
    if (back) return truncateDetail(`${index}: client order id ${preview(id)} not after ${preview(previous ?? '')}`)
    const key = JSON.stringify([order.account, id])
    if (seen.has(key)) return truncateDetail(`${index}: client order id ${preview(id)} of account ${preview(order.account)} listed twice`)
    seen.add(key)
    previous = id
  }
  return null
}
