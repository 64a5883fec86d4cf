/**
 * Hand-built domain events for the ledger specs: funding, acceptance, fills and the order's end, as the kernel would
 * log them. Every event passes through the codec (encode → decode) so the specs also prove they are valid records.
 */

import { formatDecimal, parseDecimal, type Units } from '../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../src/domain/events/index.ts'
import { venueClientOrderId } from '../../src/domain/orders.ts'

export const d = parseDecimal
export const ACCOUNT = 'acct-1'
export const AT_MS = 1_767_225_600_000

const DECISION = { principalId: 'alice', roles: ['trader'], configDigest: 'cfg', buildCommit: 'spec', nowMs: AT_MS, guards: [] }

function checked(event: DomainEvent): DomainEvent {
  return decodeEvent(encodeEvent(event))
}

export function funded(asset: string, amount: string, accountId = ACCOUNT): DomainEvent {
  return checked({ type: 'account.funded', atMs: AT_MS, accountId, asset, amount: d(amount), reference: `cfg:${asset}` })
}

export interface AcceptOptions {
  orderId: string
  side: 'buy' | 'sell'
  qty: string
  price: string
  symbol?: string
  base?: string
  quote?: string
  reservation?: string
  accountId?: string
}

export function accepted(options: AcceptOptions): DomainEvent {
  const base = options.base ?? 'BTC'
  const quote = options.quote ?? 'USD'
  const reservation = options.reservation ?? (options.side === 'buy' ? String(Number(options.qty) * Number(options.price)) : options.qty)
  return checked({
    type: 'order.accepted',
    atMs: AT_MS,
    orderId: options.orderId,
    accountId: options.accountId ?? ACCOUNT,
    idempotencyKey: `key-${options.orderId}`,
    bodyDigest: 'digest',
    clientOrderId: null,
    venue: 'sim',
    symbol: options.symbol ?? `${base}-${quote}`,
    baseAsset: base,
    quoteAsset: quote,
    side: options.side,
    orderType: 'limit',
    qty: d(options.qty),
    price: d(options.price),
    tif: 'GTC',
    postOnly: false,
    reduceOnly: false,
    lane: 1,
    venueClientOrderId: venueClientOrderId(options.orderId),
    reservationAsset: options.side === 'buy' ? quote : base,
    reservationAmount: d(reservation),
    flattenId: null,
    decision: DECISION,
  })
}

/** A fill; `venueCumQty`: its place in the venue's cumulative quantity (a real fill's, src/kernel/inbox.ts), absent when not given. */
export function fill(orderId: string, options: { execId: string; qty: string; price: string; cumQty: string; fee?: string; feeAsset?: string; synthetic?: boolean; venueCumQty?: string }): DomainEvent {
  return checked({
    type: 'order.fill',
    atMs: AT_MS,
    orderId,
    execId: options.execId,
    lastQty: d(options.qty),
    lastPrice: d(options.price),
    fee: d(options.fee ?? '0'),
    feeAsset: options.feeAsset ?? 'USD',
    cumQty: d(options.cumQty),
    synthetic: options.synthetic ?? false,
    venueTimeMs: AT_MS,
    ...(options.venueCumQty === undefined ? {} : { venueCumQty: d(options.venueCumQty) }),
  })
}

export function canceled(orderId: string): DomainEvent {
  return checked({ type: 'order.canceled', atMs: AT_MS, orderId, reason: 'VENUE_CANCELED', source: 'venue' })
}

export function unknown(orderId: string): DomainEvent {
  return checked({ type: 'order.unknown', atMs: AT_MS, orderId, reason: 'VENUE_OUTCOME_UNKNOWN', detail: 'timeout' })
}

/** Renders an amount for golden comparisons: canonical decimal text with an explicit sign. */
export function signed(units: Units): string {
  return units < 0n ? formatDecimal(units) : `+${formatDecimal(units)}`
}
