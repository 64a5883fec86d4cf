/** A venue's open-order list read page by page (JsonlVenueClient.openOrders), each page checked against the paging of codec.ts. */

import { truncateDetail } from '../../domain/venue-report-schema.ts'
import type { VenueOrder, VenueOutcome } from '../adapter.ts'
import { OPEN_ORDERS_PAGE_MAX } from './codec.ts'
import { preview } from './messages.ts'
import { JsonlReason, withDetail } from './reasons.ts'

/** Pages of open orders read for one listing at most: 100,000 orders; past it the list is `unknown`. */
export const OPEN_ORDERS_PAGES_MAX = 100

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

/**
 * Every open order (of `account`), asked a page at a time (codec.ts): at most OPEN_ORDERS_PAGES_MAX pages, each
 * after the last order of the one before (its client id and account: ids are unique per account only, and paged by
 * the id alone a page ending at an id two accounts hold hid the second's order). An older venue refuses the account
 * of the cursor (jsonl_request_invalid, nothing done): that page is asked again by the id alone, as it pages. A page
 * that is not one the venue may give (pageProblem) is the venue's fault: `unknown`, logged, so the caller reads the
 * orders one by one instead.
 */
export async function listOpenOrders(
  ask: (args: { account?: string; after?: string; afterAccount?: string; limit: number }) => Promise<VenueOutcome<VenueOrder[]>>,
  account: string | undefined,
  onInvalidPage: (problem: string) => void,
): Promise<VenueOutcome<VenueOrder[]>> {
  const orders: VenueOrder[] = []
  const seen = new Set<string>()
  let after: PageCursor | undefined
  let cursorAccounts = true
  const pageAfter = (cursor: PageCursor | undefined) => ({
    ...(account === undefined ? {} : { account }),
    ...(cursor === undefined ? {} : { after: cursor.clientOrderId, ...(cursorAccounts ? { afterAccount: cursor.account } : {}) }),
    limit: OPEN_ORDERS_PAGE_MAX,
  })
  for (let page = 0; page < OPEN_ORDERS_PAGES_MAX; page++) {
    let outcome = await ask(pageAfter(after))
    if (after !== undefined && cursorAccounts && outcome.kind === 'rejected' && outcome.reason.startsWith(JsonlReason.requestInvalid)) {
      cursorAccounts = false
      outcome = await ask(pageAfter(after))
    }
    if (outcome.kind !== 'ok') return outcome
    const listed = outcome.value
    const problem = pageProblem(listed, after, seen)
    if (problem !== null) {
      onInvalidPage(problem)
      return { kind: 'unknown', reason: withDetail(JsonlReason.answerInvalid, `openOrders: ${problem}`) }
    }
    orders.push(...listed)
    const last = listed.at(-1)
    if (listed.length < OPEN_ORDERS_PAGE_MAX || last === undefined) return { kind: 'ok', value: orders }
    after = { clientOrderId: last.clientOrderId, account: last.account }
  }
  return { kind: 'unknown', reason: withDetail(JsonlReason.openOrdersTooMany, `more than ${OPEN_ORDERS_PAGES_MAX * OPEN_ORDERS_PAGE_MAX}`) }
}
