/**
 * Per-account flatten (kill switch): cancel every open order of the account and close every position with a
 * reduce-only, marketable limit sell in Lane0. Closing orders are priced at the far edge of the instrument's band
 * below the reference price (so they cross the book without being market orders, which §14 keeps off) and are IOC
 * where supported. They bypass intake guards on purpose: they only reduce risk. Only positions not already held by
 * other orders are closed; to close the rest once the cancels have settled, flatten again under a new
 * Idempotency-Key (or none): a repeat of the same key within the key window decides nothing and answers the first
 * answer (flatten-held.ts). Close orders derive their ids from the flatten id, instrument and their number (a holding
 * above maxQty takes several: flatten-close-sizes.ts), so a flatten id decided again (after its window) never sends a
 * second close for a close still held under its key. What the closes cannot take under the instrument's size rules is
 * named in the answer's notClosed, with a FLATTEN_NOT_CLOSED alert; so are closes past the keys a full idempotency index
 * lets flatten take (flatten-keys.ts: OVERLOADED), so that a loop of flattens cannot grow the index without bound.
 *
 * One decision cancels at most `ordersMax` orders (the first by order id) when the command asks for parts, so that its
 * records fit the log's queue: an account with more open orders than the queue takes records (65,536 by default) had
 * its flatten — a kill switch — refused as overloaded every time it was asked. A flatten with more cancels than that
 * records the first `ordersMax` cancels and nothing else (no account.flatten_requested: nothing is held, the runtime
 * asks again: gateway-commands.ts); the decision that finds `ordersMax` or fewer left records the flatten, its last
 * cancels and the closes, sized from the balances after every cancel, as one decision sized them; each instrument's
 * closes past its first count against `ordersMax` too (the half of the queue decision-parts.ts keeps for them). Its lsn
 * is the answer held (flatten-held.ts). A flatten refused (FLATTEN_POSITION_UNRECORDABLE) is refused by its first part, nothing
 * decided. A crash between parts leaves orders canceled and nothing held: the flatten asked again goes on from there.
 */

import { sha256Hex, sha256HexPrefix } from '../domain/canonical-json.ts'
import { keySpanSuffix } from './key-window.ts'
import { formatDecimal, type Units } from '../domain/decimal.ts'
import type { DomainEvent, EventOf } from '../domain/events/index.ts'
import { instrumentKey, type Instrument } from '../domain/instruments.ts'
import type { MarketSnapshot } from '../domain/market.ts'
import { venueClientOrderId, type TimeInForce } from '../domain/orders.ts'
import type { ReasonCode } from '../domain/reasons.ts'
import { isRecordableUnits, RECORD_UNITS_MAX } from '../domain/recordable-amounts.ts'
import { attributed, attributionOf } from './attribution.ts'
import { cancelEvents } from './cancel.ts'
import { closeSizes } from './flatten-close-sizes.ts'
import { flattenKeysLeft } from './flatten-keys.ts'
import { flattenUncovered } from './flatten-uncovered.ts'
import { heldFlatten } from './flatten-held.ts'
import { DONE_REPLY, type Decision, type FlattenCommand } from './commands.ts'
import { mayActFor } from './permissions.ts'
import { bandFloorPrice, referencePriceUsable } from './intake/sent-order.ts'
import { availableBalance, idempotencyIndexKey, type FlattenNotClosed, type KernelState } from './state.ts'
import { isTerminal } from '../domain/states.ts'
import { traceMemberOf } from '../domain/trace-context.ts'

/**
 * The idempotency keys of flatten's closing orders start with this (`flatten:<flatten id>:<venue>:<symbol>`). They live
 * in the account's idempotency index with the traders' own keys, so a client key with this prefix is refused before
 * the kernel (HTTP 400 IDEMPOTENCY_KEY_RESERVED): taken by a trader's order it would stop the close (a repeat) or hand
 * the trader the close's answer. Logs written before the refusal read as they were.
 */
export const FLATTEN_KEY_PREFIX = 'flatten:'

/** Orders one flatten decision cancels at most when a command asks for parts (FlattenCommand.ordersMax). */
export const FLATTEN_ORDERS_MAX = 4096

export function decideFlatten(state: KernelState, command: FlattenCommand): Decision {
  if (!mayActFor(command.principal, command.accountId)) {
    return { events: [], reply: { kind: 'refused', reason: 'ACCOUNT_NOT_PERMITTED', detail: command.accountId } }
  }
  // A repeat of a flatten whose answer is held decides nothing: it answers the first answer (flatten-held.ts).
  const held = heldFlatten(state, command.accountId, command.flattenId, command.nowMs)
  if (held !== null) return { events: [], reply: { kind: 'flatten_repeat', lsn: held.lsn, notClosed: held.notClosed } }
  const at = { atMs: command.nowMs }
  // What the answer says it could not close: holdings no instrument trades (flatten-uncovered.ts), then what the closes
  // leave of each instrument's (flatten-close-sizes.ts), by asset.
  const notClosed: FlattenNotClosed[] = flattenUncovered(state, command.accountId)
  const attribution = attributionOf(state, command)
  const requested: EventOf<'account.flatten_requested'> = attributed(
    { type: 'account.flatten_requested', ...at, accountId: command.accountId, flattenId: command.flattenId, principalId: command.principal.id, ...traceMemberOf(command) },
    attribution,
  )
  // Positions released by orders canceled on the spot here are available to the closing orders.
  const released = new Map<string, Units>()
  // Each order's cancel, by order id: a part records the first ordersMax of them.
  const cancels: DomainEvent[][] = []
  const orders = [...state.orders.values()].filter((order) => order.accountId === command.accountId && !isTerminal(order.status))
  for (const order of orders.sort((a, b) => (a.orderId < b.orderId ? -1 : 1))) {
    if (order.flattenId !== null || order.cancelWanted) continue
    // The flatten request's trace goes on what it writes for each order, as a cancel request's does.
    const cancel = cancelEvents(order, { atMs: command.nowMs, principalId: command.principal.id, reason: 'FLATTEN_REQUESTED', ...traceMemberOf(command), ...attribution })
    if (cancel === null) continue
    cancels.push(cancel)
    // Only an order ended on the spot frees what it held. One sent before (Enqueued again after a retryable answer or a
    // resend) goes Unknown with its worst case held (cancel.ts): an earlier copy may be live at the venue.
    if (cancel.some((event) => event.type === 'order.canceled')) released.set(order.reservation.asset, (released.get(order.reservation.asset) ?? 0n) + order.reservation.remaining)
  }
  const ordersMax = command.ordersMax === undefined ? null : Math.min(command.ordersMax, FLATTEN_ORDERS_MAX)
  // Sized after every cancel, also in a part that records none of them: a close that could not be recorded refuses the
  // flatten at its first part, before any cancel is.
  const closes: DomainEvent[] = []
  // Each instrument's first close is the flatten's own (one per base asset, as ever); those past it, for a holding
  // above maxQty, count against ordersMax (decision-parts.ts keeps half the log's queue for the closes).
  let extraClosesLeft = ordersMax ?? Number.POSITIVE_INFINITY
  // The keys the closes may take: past the index's cap, only so many (flatten-keys.ts), counted down as they are.
  const keys = { left: flattenKeysLeft(state, command.nowMs) }
  for (const instrument of closingInstruments(state, command)) {
    const available = availableBalance(state, command.accountId, instrument.baseAsset) + (released.get(instrument.baseAsset) ?? 0n)
    if (!isRecordableUnits(available)) return unrecordableClose(command, instrument, available)
    if (available <= 0n) continue
    const closing = closeEvents(state, command, { instrument, available, closesMax: 1 + extraClosesLeft, market: command.markets[instrumentKey(instrument.venue, instrument.symbol)], keys })
    closes.push(...closing.events)
    extraClosesLeft -= Math.max(0, closing.closes - 1)
    notClosed.push(...closing.notClosed)
  }
  // More cancels than one decision takes: this part records the first ordersMax, and the flatten is asked again.
  if (ordersMax !== null && cancels.length > ordersMax) return { events: cancels.slice(0, ordersMax).flat(), reply: DONE_REPLY }
  const events: DomainEvent[] = [requested, ...cancels.flat(), ...closes]
  // The first answer, held from the record for a repeat: its lsn is the last of these records'. Stable: an asset's
  // parts left for different reasons keep closeEvents' order.
  requested.notClosed = notClosed.sort((a, b) => (a.asset < b.asset ? -1 : 1))
  requested.records = events.length
  return { events, reply: DONE_REPLY }
}

/**
 * Whether the flatten, decided now, would cancel or close anything: more than its own record (and alerts:
 * FLATTEN_NO_PRICE, FLATTEN_NOT_CLOSED). Decides nothing. The HTTP layer charges an idle flatten to the account's rate, so a loop of them cannot
 * write to the log without bound, while a flatten that acts is never shed (routes/admin.ts).
 */
export function flattenActs(state: KernelState, command: FlattenCommand): boolean {
  return decideFlatten(state, command).events.some((event) => event.type !== 'account.flatten_requested' && event.type !== 'alert.raised')
}

/**
 * A position past the largest amount a record holds (20 whole digits: balances add up fills and fundings, each within
 * the bound, with no bound on their sum) cannot be closed by one order: its `order.accepted` would make the log's
 * writer assert, failing the whole decision as a kernel bug. The flatten is refused before anything is decided (by its
 * first part, when decided in parts), so nothing changes — not even the cancels; cancels and kill switches remain for
 * such an account.
 */
function unrecordableClose(command: FlattenCommand, instrument: Instrument, qty: Units): Decision {
  const detail = `${command.accountId} ${instrumentKey(instrument.venue, instrument.symbol)}: the position to close, ${formatDecimal(qty)}, is beyond the largest amount a record holds (${formatDecimal(RECORD_UNITS_MAX)})`
  return { events: [], reply: { kind: 'refused', reason: 'FLATTEN_POSITION_UNRECORDABLE', detail } }
}

/** One instrument per base asset the account holds: the first by key that has a market snapshot in the command. */
function closingInstruments(state: KernelState, command: FlattenCommand): Instrument[] {
  const ledger = state.accounts.get(command.accountId)
  if (ledger === undefined) return []
  const chosen = new Map<string, Instrument>()
  const all = [...state.instruments.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
  for (const [key, instrument] of all) {
    if ((ledger.balances.get(instrument.baseAsset) ?? 0n) <= 0n) continue
    const current = chosen.get(instrument.baseAsset)
    if (current === undefined || (command.markets[instrumentKey(current.venue, current.symbol)] === undefined && command.markets[key] !== undefined)) {
      chosen.set(instrument.baseAsset, instrument)
    }
  }
  return [...chosen.values()]
}

/** One instrument's closes (and alerts), how many closes they record, and what they leave open, by reason. */
interface InstrumentCloses {
  events: DomainEvent[]
  closes: number
  notClosed: FlattenNotClosed[]
}

/**
 * The closes of `available` (positive) of the instrument's base asset, at most `closesMax` (flatten-close-sizes.ts) and
 * the `keys` left to take (flatten-keys.ts, counted down), with a FLATTEN_NOT_CLOSED alert for what they leave; without
 * a usable price, none and a FLATTEN_NO_PRICE alert.
 */
function closeEvents(
  state: KernelState,
  command: FlattenCommand,
  input: { instrument: Instrument; available: Units; closesMax: number; market: MarketSnapshot | undefined; keys: { left: number } },
): InstrumentCloses {
  const { instrument, market, available } = input
  const key = instrumentKey(instrument.venue, instrument.symbol)
  const noPrice = { asset: instrument.baseAsset, qty: available, reason: 'FLATTEN_NO_PRICE' as const }
  if (market === undefined) {
    return { events: [{ type: 'alert.raised', atMs: command.nowMs, reason: 'FLATTEN_NO_PRICE', orderId: null, detail: `${command.accountId} ${key}: no reference price` }], closes: 0, notClosed: [noPrice] }
  }
  // A price no close could be recorded at (a venue's of more digits than a record holds) is none: the close's
  // order.accepted made the log's writer assert, failing the whole flatten (sent-order.ts referencePriceUsable).
  if (!referencePriceUsable(market.referencePrice, instrument)) {
    const detail = `${command.accountId} ${key}: the reference price ${formatDecimal(market.referencePrice)} is not one a close can be priced from (positive, its band within ${formatDecimal(RECORD_UNITS_MAX)})`
    return { events: [{ type: 'alert.raised', atMs: command.nowMs, reason: 'FLATTEN_NO_PRICE', orderId: null, detail }], closes: 0, notClosed: [noPrice] }
  }
  const price = bandFloorPrice(market.referencePrice, instrument)
  const sizes = closeSizes(available, instrument, { price, closesMax: input.closesMax })
  const events: DomainEvent[] = []
  // A close whose key its flatten id's earlier decision holds is not sent (closeEvent): what it would have taken is
  // left. Counted as sent, the answer read the account as flat and the alert said "2 closes sent" for none, while the
  // position stayed open; the budget of closes counted records never written.
  let unsent = 0n
  // A close past the keys the index may still take (flatten-keys.ts) is not sent either.
  let withheld = 0n
  sizes.qtys.forEach((qty, index) => {
    const close = closeEvent(state, command, { instrument, key, qty, price, referencePrice: market.referencePrice, index })
    if (close === null) unsent += qty
    else if (input.keys.left <= 0) withheld += qty
    else {
      events.push(close)
      input.keys.left--
    }
  })
  const closes = events.length
  const notClosed = leftParts(instrument.baseAsset, [
    [sizes.left, sizes.reason],
    // Unsent closes are named as those past the closes one flatten sends: a new flatten (a new key) closes them. Apart
    // from what the sizes leave: named with them, a part under minQty read as one a new flatten closes, and it won't.
    [unsent, 'FLATTEN_CLOSES_MAX'],
    // Withheld closes: a new flatten closes them once keys have aged out of the index.
    [withheld, 'OVERLOADED'],
  ])
  if (notClosed.length === 0) return { events, closes, notClosed }
  events.push({ type: 'alert.raised', atMs: command.nowMs, reason: 'FLATTEN_NOT_CLOSED', orderId: null, detail: notClosedDetail(command, instrument, { parts: notClosed, closes }) })
  return { events, closes, notClosed }
}

/** The parts of `asset` left, one per reason in the order given (those of the same reason added up), none of 0. */
function leftParts(asset: string, parts: readonly (readonly [Units, ReasonCode | null])[]): FlattenNotClosed[] {
  const named: FlattenNotClosed[] = []
  for (const [qty, reason] of parts) {
    if (qty === 0n || reason === null) continue
    const same = named.find((part) => part.reason === reason)
    if (same === undefined) named.push({ asset, qty, reason })
    else same.qty += qty
  }
  return named
}

/**
 * The alert's detail: what is left in all and, when more than one reason leaves some, each part
 * (`3 not closed (QTY_BELOW_MIN 1, FLATTEN_CLOSES_MAX 2; lotSize=…; 1 closes sent)`).
 */
function notClosedDetail(command: FlattenCommand, instrument: Instrument, left: { parts: readonly FlattenNotClosed[]; closes: number }): string {
  const { lotSize, minQty, maxQty, minNotional } = instrument
  const rules = Object.entries({ lotSize, minQty, maxQty, minNotional }).map(([name, value]) => `${name}=${formatDecimal(value)}`)
  const total = left.parts.reduce((sum, part) => sum + part.qty, 0n)
  const reasons = left.parts.length === 1 ? `${left.parts[0]?.reason}` : left.parts.map((part) => `${part.reason} ${formatDecimal(part.qty)}`).join(', ')
  return `${command.accountId} ${instrumentKey(instrument.venue, instrument.symbol)}: ${formatDecimal(total)} not closed (${reasons}; ${rules.join(' ')}; ${left.closes} closes sent)`
}

/**
 * The close number `index` (from 0) of an instrument's. The first is named as a flatten's one close always was
 * (`flatten:<flatten id>:<venue>:<symbol>`, its order id from the same), so a holding within maxQty is closed as it
 * always was; the next ones add `#<number>` (from 2) to both. No two closes' keys meet: a configured venue name or
 * symbol holds no `#` and no `:` (src/config/instrument-fields.ts ID, the only way instruments reach the kernel), so the
 * key ends in one `<venue>:<symbol>` and at most one `#<number>`. None when its key is held already: the flatten id
 * decided again (after its answer was dropped) sends no second close under it, and closeEvents names what it would
 * have taken as not closed. Its quantity is never one a live close holds: the closes size only the balance available.
 */
function closeEvent(
  state: KernelState,
  command: FlattenCommand,
  input: { instrument: Instrument; key: string; qty: Units; price: Units; referencePrice: Units; index: number },
): DomainEvent | null {
  const { instrument, key, qty, price } = input
  const suffix = input.index === 0 ? '' : `#${input.index + 1}`
  const idempotencyKey = `${FLATTEN_KEY_PREFIX}${command.flattenId}:${key}${suffix}`
  if (state.idempotency.has(idempotencyIndexKey(command.accountId, idempotencyKey))) return null
  // Under the key window (key-window.ts) a flatten id a client reuses once its keys are forgotten names new closes.
  const orderId = sha256HexPrefix(`flatten\n${command.flattenId}\n${command.accountId}\n${key}${suffix}${keySpanSuffix(state, command.nowMs)}`, 10)
  const inputs = { referencePrice: formatDecimal(input.referencePrice), price: formatDecimal(price), qty: formatDecimal(qty) }
  return {
    type: 'order.accepted',
    atMs: command.nowMs,
    orderId,
    accountId: command.accountId,
    idempotencyKey,
    bodyDigest: sha256Hex(idempotencyKey),
    clientOrderId: null,
    venue: instrument.venue,
    symbol: instrument.symbol,
    baseAsset: instrument.baseAsset,
    quoteAsset: instrument.quoteAsset,
    side: 'sell',
    orderType: 'limit',
    qty,
    price,
    tif: closeTimeInForce(instrument),
    postOnly: false,
    reduceOnly: instrument.reduceOnly,
    lane: 0,
    venueClientOrderId: venueClientOrderId(orderId),
    reservationAsset: instrument.baseAsset,
    reservationAmount: qty,
    flattenId: command.flattenId,
    decision: {
      principalId: command.principal.id,
      roles: [...command.principal.roles],
      configDigest: state.config?.digest ?? '',
      buildCommit: command.buildCommit ?? '',
      nowMs: command.nowMs,
      guards: [{ guard: 'lane', outcome: 'pass', inputs: { ...inputs, lane: 0, origin: 'flatten' } }],
    },
    ...traceMemberOf(command),
  }
}

/** A close's time in force, in this order of preference: IOC, GTC, DAY, FOK, the first the instrument lists. */
const CLOSE_TIME_IN_FORCE: readonly TimeInForce[] = ['IOC', 'GTC', 'DAY', 'FOK']

/**
 * The first of CLOSE_TIME_IN_FORCE the instrument takes. Was IOC, else GTC whatever the instrument listed: an instrument
 * configured with `["DAY"]` had its closes sent as GTC, which its venue does not take, and the position stayed open.
 * GTC when it lists none (a configuration recorded before an empty list was refused at load).
 */
function closeTimeInForce(instrument: Instrument): TimeInForce {
  return CLOSE_TIME_IN_FORCE.find((tif) => instrument.timeInForce.includes(tif)) ?? 'GTC'
}
