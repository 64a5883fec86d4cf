/**
 * Orders: the API bodies the syntax guards accept, the order record the kernel projects, and the deterministic venue
 * client order ids. The venue sees `eg-<orderId>` for the order, `eg-<orderId>.c<n>` for its n-th cancel and
 * `eg-<orderId>.a<n>` for its n-th amend, so a resend — after a crash, or by a new leader — carries the same id and
 * the venue dedupes it. After an amend the venue knows the order by the amend's id (FIX cancel/replace semantics), so
 * the order keeps the chain of ids it has carried; the last one is what later cancels and status queries name.
 */

import * as v from 'valibot'
import type { Units } from './decimal.ts'
import type { Lane } from './modes.ts'
import type { ReasonCode } from './reasons.ts'
import type { SmallSet } from './small-set.ts'
import { idSchema, orderTypeSchema, positiveInputUnitsSchema, positiveUnitsSchema, sideSchema, tifSchema, ttlMsSchema } from './schema-kit.ts'
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
    // Lenient (a leading zero is taken): the kernel re-decides recorded bodies with it. The transport refuses a
    // leading zero in a new request (http/routes/input-amounts.ts).
    qty: positiveUnitsSchema,
    price: v.exactOptional(positiveUnitsSchema),
    tif: v.exactOptional(tifSchema, 'GTC'),
    post_only: v.exactOptional(v.boolean(), false),
    reduce_only: v.exactOptional(v.boolean(), false),
    client_order_id: v.exactOptional(clientOrderIdSchema),
    /** The order's time-to-live: its life ends this many ms after its acceptance (spec 004 §8, kernel/ttl.ts). */
    ttl_ms: v.exactOptional(ttlMsSchema),
  }),
  v.check((body) => (body.type === 'limit') === (body.price !== undefined), 'a limit order needs a price; a market order must not have one'),
)

export type PlaceBody = v.InferOutput<typeof placeBodySchema>

/**
 * Raw bodies that passed placeBodySchema, with what parsing gave: the HTTP route parses a body first (to answer 400
 * with every issue), then hands the same object to the kernel, whose syntax guard (guard 1) would parse it again. A
 * body that passes is frozen before it is remembered — its members are all primitives (data properties, as JSON.parse
 * makes them), so nothing can change what the remembered output was parsed from. Held weakly: an entry lives as long
 * as its body.
 */
const placeBodiesParsed = new WeakMap<object, PlaceBody>()

/** v.safeParse(placeBodySchema, raw), parsed once per raw object (see placeBodiesParsed). */
export function safeParsePlaceBody(raw: unknown): v.SafeParseResult<typeof placeBodySchema> {
  if (typeof raw !== 'object' || raw === null) return v.safeParse(placeBodySchema, raw)
  const known = placeBodiesParsed.get(raw)
  if (known !== undefined) return { typed: true, success: true, output: known, issues: undefined }
  const result = v.safeParse(placeBodySchema, raw)
  if (result.success) placeBodiesParsed.set(Object.freeze(raw), result.output)
  return result
}

/** The body of POST /v1/orders/:id/amend: a new total quantity and/or a new limit price, as decimal strings. */
export const amendBodySchema = v.pipe(
  v.strictObject({
    qty: v.exactOptional(positiveInputUnitsSchema),
    price: v.exactOptional(positiveInputUnitsSchema),
  }),
  v.check((body) => body.qty !== undefined || body.price !== undefined, 'an amend needs a new qty, a new price, or both'),
)

export type AmendBody = v.InferOutput<typeof amendBodySchema>

/**
 * An amend the kernel has accepted and not yet seen applied. `requested`: waiting in Lane2; `sent`: the venue call is
 * in flight or its outcome is unknown; `failed`: it did not happen (kept so late venue evidence can still be read).
 * While requested or sent the order holds the larger of the old and the new worst case.
 */
export interface AmendState {
  amendId: number
  clientOrderId: string
  qty: Units
  price: Units | null
  /** The reservation the whole amended order needs (the new worst case at its full quantity). */
  reservationTotal: Units
  stage: 'requested' | 'sent' | 'failed'
  attempts: number
  sentAtMs: number | null
  /**
   * When the amend was requested (its `order.amend_requested`'s atMs): a start fails it unsent once that is older than
   * its resend window (kernel/stale-at-start.ts). Read from a kernel-state snapshot of format 23 or older, which did not
   * hold it, it is the order's acceptedAtMs (state-codec-older.ts).
   */
  requestedAtMs: number
}

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
  /**
   * A market order's protection price (src/kernel/intake/sent-order.ts marketProtectionPrice): it is sent as a limit
   * at it, IOC or FOK (src/kernel/venue-form.ts). Null: a limit order, or a market order sent as a plain market order
   * (its instrument cannot take the limit, or it was accepted before protection existed: `order.accepted` without it).
   */
  protectionPrice: Units | null
  /**
   * A plain market order's worst price (src/kernel/intake/sent-order.ts plainMarketWorstPrice): the price its
   * reservation was last taken at, at intake or a resend — a buy: the band's upper edge of the reference price, what its
   * cash is held for; a sell: the band's lower edge. A fill beyond it (a buy above, a sell below) raises
   * FILL_PRICE_BEYOND_WORST (kernel/fill-limit.ts). Null: a limit order, a protected market order (held to its protection
   * price), or a plain market order whose record did not carry it (a build before it): such fills are not checked.
   */
  worstPrice: Units | null
  tif: TimeInForce
  postOnly: boolean
  reduceOnly: boolean
  lane: Lane
  venueClientOrderId: string
  status: OrderState
  cumQty: Units
  /**
   * Sum of lastQty × lastPrice over fills, each rounded half-even to the unit, in quote units (a synthetic fill's share
   * at the real price once trued up).
   */
  cumNotional: Units
  /**
   * What rounding each fill's notional to the unit dropped, in units of 1e-16 (a unit × UNIT): cumNotional × UNIT plus
   * this is the order's exact notional, so its average fill price (http/views/order-view.ts) is rounded once, not once
   * per fill then again. Kept beside cumNotional, which the ledger and the state digest use as it is; this is in neither
   * (kernel/canonical-state.ts). A real fill adds lastQty × lastPrice less its rounded notional (kernel/ledger.ts
   * bookFill), a true-up the same for the real fill's share (bookTrueUp); a synthetic fill adds none, its notional at a
   * guessed price being replaced, rounded as it was booked, by its true-up. 0 for an order read from a kernel-state
   * snapshot older than format 26: its fills until then count as rounded.
   */
  cumNotionalRemainder: bigint
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
  execIds: SmallSet<string>
  acceptedAtMs: number
  /**
   * When the order's time-to-live ends (acceptedAtMs + the body's ttl_ms), null when it has none. Past it the order is
   * never sent; one that may be at the venue is canceled through Lane0 (kernel/ttl.ts).
   */
  expiresAtMs: number | null
  updatedAtMs: number
  unknownSinceMs: number | null
  lastReason: ReasonCode | null
  flattenId: string | null
  /** Every venue client id the order has carried, oldest first: its own, then each applied amend's. Never empty. */
  clientIdChain: string[]
  /** Amends accepted so far; the next one is number amendCount + 1. */
  amendCount: number
  /** The latest amend, while it is in progress (or failed); null once applied or when there never was one. */
  amend: AmendState | null
  /**
   * The loosest limit among every version the order has had — its own and each applied amend's; the higher for a buy,
   * the lower for a sell — set by `order.limit_loosest` at each applied amend that moves it. A late fill stated under an earlier
   * version is held to it (kernel/fill-limit.ts). Null until an amend is applied, for a market order, and for an order
   * amended under a build that did not keep it (its earlier limits are not known): such fills are then not checked.
   */
  limitLoosest: Units | null
  /**
   * The highest venue cumulative quantity a synthetic fill (reconciliation inferring fills from the venue's status)
   * booked up to; 0 when there was none. A real fill report whose venue cumulative range lies below it was already
   * booked by that synthetic fill (kernel/synthetic-cover.ts).
   */
  syntheticCumQty: Units
  /**
   * Synthetic quantity still standing in for real fills not yet seen (order.synthetic_pending adds, order.fill_trued_up
   * takes), and what the synthetic fills booked for it: the quote cash as booked (rounded against the account) and the
   * half-even notional. A real fill covering synthetic quantity takes its share and books the real numbers instead.
   */
  syntheticPendingQty: Units
  syntheticPendingCash: Units
  syntheticPendingNotional: Units
  /**
   * The part of the synthetic quantity pending that holds for its true-up, and the cash its synthetic fills booked for
   * it: that of the synthetic fills applied after the log adopted the hold rule (kernel.hold_rule_adopted,
   * kernel/reservations.ts HOLD_RULE_SYNTHETIC), which the true-ups take first. 0 while none, and for quantity pending
   * from before the rule, which holds nothing as the builds before decided.
   */
  syntheticHeldQty: Units
  syntheticHeldCash: Units
  /**
   * What a sell holds in its quote asset for the fee of its synthetic quantity held (syntheticHeldQty): the taker-fee
   * allowance on what each of those synthetic fills booked (kernel/reservations.ts syntheticFeeAllowance). The
   * true-up pays the real fee from the account's quote; free, the proceeds could be spent first. 0 on a buy (its
   * reservation keeps its allowance: syntheticHeldFor) and while nothing is held.
   */
  syntheticFeeHeld: Units
  /**
   * The venue cumulative quantity of the synthetic fill last declined for this order (`order.synthetic_declined`: its
   * cash pending would pass what a record holds), which was alerted; null when none was. A read-back stating it again
   * is not alerted again; one stating another is news.
   */
  syntheticDeclinedCumQty: Units | null
  /** The venue cumulative quantity of the overfill last alerted for this order; null when none is being held. */
  overfillCumQty: Units | null
  /** The recheck interval of the last overfill answer (it doubles per repeat, to a bound); 0 when none. */
  overfillRecheckMs: number
  /**
   * Unknown when a start began (its call was in flight when the process stopped, or it was already Unknown): if
   * reconciliation proves the venue never received it, that start resends it. Held in the state, from the log, so a
   * crash between the proof of absence and the resend leaves the order for the next start to resend rather than
   * Failed for good. Only Unknown and Failed orders carry it; the start clears what it did not resend.
   */
  bootstrapSuspect: boolean
}

const CLIENT_ID_PREFIX = 'eg-'

export function venueClientOrderId(orderId: string): string {
  return `${CLIENT_ID_PREFIX}${orderId}`
}

/** Whether `candidate` equals venueClientOrderId(orderId), without building that string (apply checks every acceptance). */
export function isVenueClientOrderIdOf(candidate: string, orderId: string): boolean {
  return candidate.length === CLIENT_ID_PREFIX.length + orderId.length && candidate.startsWith(CLIENT_ID_PREFIX) && candidate.endsWith(orderId)
}

export function cancelClientOrderId(orderId: string, attempt: number): string {
  return `${CLIENT_ID_PREFIX}${orderId}.c${attempt}`
}

export function amendClientOrderId(orderId: string, amendId: number): string {
  return `${CLIENT_ID_PREFIX}${orderId}.a${amendId}`
}

/** The id the venue knows the order by now: the last applied amend's id, or the order's own. */
export function currentClientOrderId(order: Pick<Order, 'clientIdChain' | 'venueClientOrderId'>): string {
  return order.clientIdChain.at(-1) ?? order.venueClientOrderId
}

/** The egress order id behind a venue client id (order, cancel or amend id), or null if it is not one of ours. */
export function orderIdFromClientId(clientOrderId: string): string | null {
  // The order's own id (no suffix: most reports name it) is read without parsing into an object.
  if (clientOrderId.startsWith(CLIENT_ID_PREFIX) && clientOrderId.indexOf('.', CLIENT_ID_PREFIX.length) === -1) {
    return clientOrderId.length > CLIENT_ID_PREFIX.length ? clientOrderId.slice(CLIENT_ID_PREFIX.length) : null
  }
  return parseClientOrderId(clientOrderId)?.orderId ?? null
}

export interface ParsedClientOrderId {
  orderId: string
  /** What the id names: the order itself, one of its cancel requests, or one of its amends. */
  kind: 'order' | 'cancel' | 'amend'
  /** The cancel attempt or amend number; 0 for the order itself. */
  n: number
}

const SUFFIX_PATTERN = /^([ca])([1-9][0-9]{0,8})$/

export function parseClientOrderId(clientOrderId: string): ParsedClientOrderId | null {
  if (!clientOrderId.startsWith(CLIENT_ID_PREFIX)) return null
  const rest = clientOrderId.slice(CLIENT_ID_PREFIX.length)
  const dot = rest.indexOf('.')
  const orderId = dot === -1 ? rest : rest.slice(0, dot)
  if (orderId.length === 0) return null
  if (dot === -1) return { orderId, kind: 'order', n: 0 }
  const suffix = SUFFIX_PATTERN.exec(rest.slice(dot + 1))
  if (suffix === null) return null
  return { orderId, kind: suffix[1] === 'c' ? 'cancel' : 'amend', n: Number(suffix[2]) }
}
