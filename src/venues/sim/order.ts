/**
 * The sim venue's record of one order, and the read-only view of it that `inspect()` hands out.
 *
 * The venue holds every order for a while after it ended (order-store.ts: a minute to five, hundreds of thousands of
 * them under load), so the record is kept to as few heap cells as it can be: one object, with every field it may get
 * written into its first shape (a field added later gives it a second, out-of-line block), its client-id chain a scalar
 * until an amend renames it, and its place in the ended-order queue in the object itself rather than in a link beside
 * it. Fewer cells per held order are less for each of JavaScriptCore's full collections to mark.
 */

import type { Units } from '../../domain/decimal.ts'
import type { OrderType, PlaceRequest, Side, TimeInForce, VenueOrder, VenueOrderStatus } from '../adapter.ts'

export interface SimOrder {
  venueOrderId: string
  /** Its place in the venue's creation order (1, 2, …; the N of its `VENUE-oN` id). */
  sequence: number
  /** The current client order id (changes when an amend brings a new one). */
  clientOrderId: string
  /**
   * Every client order id it has carried, oldest first (the amend chain); null while that is `clientOrderId` alone
   * (never renamed), so that most orders hold no array.
   */
  clientOrderIdChain: string[] | null
  account: string
  symbol: string
  side: Side
  type: OrderType
  tif: TimeInForce
  postOnly: boolean
  reduceOnly: boolean
  qty: Units
  /** Undefined for a market order. */
  price: Units | undefined
  cumQty: Units
  status: VenueOrderStatus
  rejectReason: string | undefined
  createdAtMs: number
  /** A DAY order's expiry; undefined for other times in force. */
  expireAtMs: number | undefined
  /** When it ended, once the store queued it for forgetting (order-store.ts); undefined while open. */
  endedAtMs: number | undefined
  /** The next ended order in the store's ended-order queue (order-store.ts). */
  nextEnded: SimOrder | null
}

/** An order's fields as inspect() shows them, and as a resumed venue gets them back (memory.ts). */
export type SimOrderFields = Omit<SimOrder, 'clientOrderIdChain' | 'price' | 'rejectReason' | 'expireAtMs' | 'endedAtMs' | 'nextEnded'> & {
  clientOrderIds: readonly string[]
  price?: Units
  rejectReason?: string
  expireAtMs?: number
}

/** The order as inspect() shows it: its fields, with the whole client-id chain, and optional fields only when set. */
export type SimOrderView = Readonly<SimOrderFields>

/** What a new record is made of: `clientOrderIds` (its chain, oldest first) absent for the chain `[clientOrderId]`. */
export type NewSimOrder = Omit<SimOrderFields, 'clientOrderIds' | 'price' | 'rejectReason' | 'expireAtMs'> & {
  clientOrderIds?: readonly string[]
  price?: Units | undefined
  rejectReason?: string | undefined
  expireAtMs?: number | undefined
}

/** A new order's record. */
export function simOrder(fields: NewSimOrder): SimOrder {
  const { clientOrderIds } = fields
  const alone = clientOrderIds === undefined || (clientOrderIds.length === 1 && clientOrderIds[0] === fields.clientOrderId)
  // Every field written here, in one literal, so that the record keeps one shape (see the module comment); placedOrder
  // writes the same members in the same order.
  return {
    venueOrderId: fields.venueOrderId,
    sequence: fields.sequence,
    clientOrderId: fields.clientOrderId,
    clientOrderIdChain: alone ? null : [...clientOrderIds],
    account: fields.account,
    symbol: fields.symbol,
    side: fields.side,
    type: fields.type,
    tif: fields.tif,
    postOnly: fields.postOnly,
    reduceOnly: fields.reduceOnly,
    qty: fields.qty,
    price: fields.price,
    cumQty: fields.cumQty,
    status: fields.status,
    rejectReason: fields.rejectReason,
    createdAtMs: fields.createdAtMs,
    expireAtMs: fields.expireAtMs,
    endedAtMs: undefined,
    nextEnded: null,
  }
}

/**
 * The record of an order placed by `request`, built straight from it: the same members in the same order as simOrder's
 * literal (one shape for every record), without the fields object simOrder takes, which was one more object per place.
 */
export function placedOrder(request: PlaceRequest, venueOrderId: string, sequence: number, nowMs: number, expireAtMs: number | undefined): SimOrder {
  return {
    venueOrderId,
    sequence,
    clientOrderId: request.clientOrderId,
    clientOrderIdChain: null,
    account: request.account,
    symbol: request.symbol,
    side: request.side,
    type: request.type,
    tif: request.tif,
    postOnly: request.postOnly,
    reduceOnly: request.reduceOnly,
    qty: request.qty,
    price: request.price,
    cumQty: 0n,
    status: 'rejected',
    rejectReason: undefined,
    createdAtMs: nowMs,
    expireAtMs,
    endedAtMs: undefined,
    nextEnded: null,
  }
}

/** Every client order id `order` has carried, oldest first (a new array). */
export function clientOrderIdsOf(order: SimOrder): string[] {
  return order.clientOrderIdChain === null ? [order.clientOrderId] : [...order.clientOrderIdChain]
}

/** An amend's new client order id: it becomes the current one, last in the chain. */
export function renameOrder(order: SimOrder, clientOrderId: string): void {
  if (order.clientOrderIdChain === null) order.clientOrderIdChain = [order.clientOrderId, clientOrderId]
  else order.clientOrderIdChain.push(clientOrderId)
  order.clientOrderId = clientOrderId
}

export function isOpen(order: Pick<SimOrder, 'status'>): boolean {
  return order.status === 'open' || order.status === 'partially_filled'
}

/**
 * Whether the order never rests on the book: a market, IOC or FOK order trades at once, and the venue ends what it
 * could not fill right then (expired), as real venues cancel such a remainder.
 */
export function neverRests(order: Pick<SimOrder, 'type' | 'tif'>): boolean {
  return order.type === 'market' || order.tif === 'IOC' || order.tif === 'FOK'
}

export function bookView(order: SimOrder): SimOrderView {
  const view: { -readonly [K in keyof SimOrderView]: SimOrderView[K] } = {
    venueOrderId: order.venueOrderId,
    sequence: order.sequence,
    clientOrderId: order.clientOrderId,
    clientOrderIds: Object.freeze(clientOrderIdsOf(order)),
    account: order.account,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    tif: order.tif,
    postOnly: order.postOnly,
    reduceOnly: order.reduceOnly,
    qty: order.qty,
    cumQty: order.cumQty,
    status: order.status,
    createdAtMs: order.createdAtMs,
  }
  if (order.price !== undefined) view.price = order.price
  if (order.expireAtMs !== undefined) view.expireAtMs = order.expireAtMs
  if (order.rejectReason !== undefined) view.rejectReason = order.rejectReason
  return Object.freeze(view)
}

/** The adapter-facing view of an order (status and open-order queries). */
export function venueOrder(order: SimOrder): VenueOrder {
  const view: VenueOrder = {
    clientOrderId: order.clientOrderId,
    venueOrderId: order.venueOrderId,
    account: order.account,
    symbol: order.symbol,
    side: order.side,
    qty: order.qty,
    cumQty: order.cumQty,
    status: order.status,
  }
  if (order.price !== undefined) view.price = order.price
  return view
}
