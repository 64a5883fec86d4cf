/**
 * Orders: the API body the syntax guard accepts, the order record the kernel projects, and the deterministic venue
 * client order ids. The venue sees `eg-<orderId>` for the order and `eg-<orderId>.c<n>` for its cancels, so a
 * resend — after a crash, or by a new leader — carries the same id and the venue dedupes it.
 */

import * as v from 'valibot'
import type { Units } from './decimal.ts'
import type { Lane } from './modes.ts'
import type { ReasonCode } from './reasons.ts'
import { idSchema, orderTypeSchema, positiveUnitsSchema, sideSchema, tifSchema } from './schema-kit.ts'
import type { OrderState } from './states.ts'

export type Side = 'buy' | 'sell'
export type OrderType = 'limit' | 'market'
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'DAY'

const clientOrderIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._:-]{1,64}$/, 'expected 1–64 of [A-Za-z0-9._:-]'))

/** The body of POST /v1/orders (guard 1). Amounts are decimal strings; a JSON number is a syntax error. */
export const placeBodySchema = v.pipe(
  v.strictObject({
    account: idSchema,
    venue: v.exactOptional(idSchema, 'sim'),
    symbol: idSchema,
    side: sideSchema,
    type: orderTypeSchema,
    qty: positiveUnitsSchema,
    price: v.exactOptional(positiveUnitsSchema),
    tif: v.exactOptional(tifSchema, 'GTC'),
    post_only: v.exactOptional(v.boolean(), false),
    reduce_only: v.exactOptional(v.boolean(), false),
    client_order_id: v.exactOptional(clientOrderIdSchema),
  }),
  v.check((body) => (body.type === 'limit') === (body.price !== undefined), 'a limit order needs a price; a market order must not have one'),
)

export type PlaceBody = v.InferOutput<typeof placeBodySchema>

export interface Reservation {
  asset: string
  /** What was reserved at acceptance (the worst case). */
  total: Units
  /** What is still held; shrinks with fills, becomes zero at a terminal state. */
  remaining: Units
}

/** The kernel's projection of one order. Mutated only by kernel apply, in place, on the kernel's own state copy. */
export interface Order {
  orderId: string
  accountId: string
  idempotencyKey: string
  clientOrderId: string | null
  venue: string
  symbol: string
  baseAsset: string
  quoteAsset: string
  side: Side
  type: OrderType
  qty: Units
  /** Rounded to tick; null for market orders. */
  price: Units | null
  tif: TimeInForce
  postOnly: boolean
  reduceOnly: boolean
  lane: Lane
  venueClientOrderId: string
  status: OrderState
  cumQty: Units
  /** Sum of lastQty × lastPrice over fills, in quote units. */
  cumNotional: Units
  reservation: Reservation
  venueOrderId: string | null
  sendAttempts: number
  lastSendAtMs: number | null
  cancelWanted: boolean
  cancelAttempts: number
  /** Set when reconciliation proved, after the grace time, that the venue never had the order. */
  notAtVenue: boolean
  /** Earliest time the executor may pick this order's next send (after a retryable error or a blocked gate). */
  notBeforeMs: number
  /** Execution ids already applied (inbox dedupe, per order). */
  execIds: Set<string>
  acceptedAtMs: number
  updatedAtMs: number
  unknownSinceMs: number | null
  lastReason: ReasonCode | null
  flattenId: string | null
}

const CLIENT_ID_PREFIX = 'eg-'

export function venueClientOrderId(orderId: string): string {
  return `${CLIENT_ID_PREFIX}${orderId}`
}

export function cancelClientOrderId(orderId: string, attempt: number): string {
  return `${CLIENT_ID_PREFIX}${orderId}.c${attempt}`
}

/** The egress order id behind a venue client id (order, cancel or amend id), or null if it is not one of ours. */
export function orderIdFromClientId(clientOrderId: string): string | null {
  if (!clientOrderId.startsWith(CLIENT_ID_PREFIX)) return null
  const rest = clientOrderId.slice(CLIENT_ID_PREFIX.length)
  const dot = rest.indexOf('.')
  const orderId = dot === -1 ? rest : rest.slice(0, dot)
  return orderId.length > 0 ? orderId : null
}
