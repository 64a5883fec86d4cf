/**
 * Ways into a ledger's held orders that do not walk all of them, for the reconcile's venue checks
 * (external-checks.ts, venue-trades.ts). The ledger keeps every ended order for as long as the kernel may still book a
 * late fill of it (an hour by default, retention.ts), so a check that walked every held order on every run would take
 * time in proportion to the last hour's traffic; these keep a run in proportion to what the venue can still tell:
 *  - the orders that are not done, per venue and account (`openOrdersOf`);
 *  - the orders that ended since a time, newest first (`endedSince`: a backwards walk of the ledger's ended-order list);
 *  - the held order a venue's client order id names (`heldOrderOf`: the id carries the order id, see domain/orders.ts);
 *  - the ended orders with a fill, per venue, newest first (`endedFillsSince`, filled-ends.ts): what the trades check
 *    has to compare among the ended ones (compared-window.ts).
 *
 * The open-order index is a cache beside one ledger's `orders` Map, as ended-order-list.ts keeps its list beside the
 * ended-order Map: the ledger state, its snapshot section and its clones do not carry it. `indexOpenOrders` builds it
 * from the Map the first time (the first reconcile after a start: a walk over every held order, in slices), and from
 * then on the ledger's apply keeps it, calling `noteOrderStatus` after an acceptance and whenever an order becomes done
 * or reopens (retention.ts). The index is registered before the walk, so changes during its pauses are filed as they
 * happen, and the walk files each order by its status when it gets to it. A ledger nobody reconciles (the replay's, a
 * snapshot's copy) never builds one and pays one lookup per such change.
 *
 * The list of ended orders with fills is built the same way (`indexEndedFills`, a walk over the ended-order list from
 * its newest end), and kept by the same calls plus `noteEndedFill` (an ended order filled) and `noteRetired`. A
 * snapshot does not carry it: a start rebuilds it at the first reconcile, one sliced walk over the held ended orders.
 * While a reconcile run's venue checks are under way, the changes they cannot see otherwise go to its RunChanges.
 */

import { assert } from '../domain/assert.ts'
import { amendClientOrderId, orderIdFromClientId } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'
import { newestEnded, type EndedEntry } from '../kernel/ended-order-list.ts'
import type { WorkSlices } from '../runtime/work-slices.ts'
import { FilledEnds } from './filled-ends.ts'
import { knowsClientId, type TrackedOrder } from './orders.ts'
import { RunChanges } from './run-changes.ts'

interface OpenOrderIndex {
  /** Venue → account → order id → the order, for the orders that are not done. */
  venues: Map<string, Map<string, Map<string, TrackedOrder>>>
  /** Whether the first walk over the orders is done; until then `building` resolves when it is. */
  built: boolean
  building: Promise<void>
  /** The ended orders with a fill (filled-ends.ts); null until indexEndedFills first runs. */
  filled: FilledEnds | null
  filledBuilt: boolean
  filledBuilding: Promise<void>
  /** The runs under way that are told of reopenings and late fills (run-changes.ts). */
  runs: Set<RunChanges>
}

const indexes = new WeakMap<Map<string, TrackedOrder>, OpenOrderIndex>()
// The Map last looked up and its index (null: it has none): apply works on one ledger event after event.
let lastOrders: Map<string, TrackedOrder> | null = null
let lastIndex: OpenOrderIndex | null = null

const NONE: ReadonlyMap<string, TrackedOrder> = new Map()

/**
 * How far back past `fromMs` endedSince keeps walking: the ended-order list is in the order the ledger saw the ends,
 * and their times come from the wall clock, which may step back. An end listed after one more than this older than
 * `fromMs` is not looked at; a clock that stepped back further makes a check compare fewer orders for a while, never
 * raise a break it should not.
 */
export const ENDED_WALK_SLACK_MS = 5_000

/** Builds the open-order index of `orders` if it has none (walking them in `slices`); resolves once it is complete. */
export async function indexOpenOrders(orders: Map<string, TrackedOrder>, slices: WorkSlices): Promise<void> {
  let index = orders === lastOrders ? lastIndex : (indexes.get(orders) ?? null)
  if (index === null) {
    const venues = new Map<string, Map<string, Map<string, TrackedOrder>>>()
    index = { venues, built: false, building: Promise.resolve(), filled: null, filledBuilt: false, filledBuilding: Promise.resolve(), runs: new Set() }
    indexes.set(orders, index)
    lastOrders = orders
    lastIndex = index
    index.building = fileAll(index, orders, slices)
  }
  if (!index.built) await index.building
}

/** The account's orders on `venue` that are not done, live (a copy is the caller's to take before it pauses). */
export function openOrdersOf(orders: Map<string, TrackedOrder>, venue: string, accountId: string): ReadonlyMap<string, TrackedOrder> {
  const index = indexes.get(orders)
  assert(index !== undefined && index.built, 'openOrdersOf: the open-order index is not built (await indexOpenOrders first)')
  return index.venues.get(venue)?.get(accountId) ?? NONE
}

/**
 * Files `order` as open or done in the index of `orders`, if it has one: after its acceptance, and whenever it ends or
 * reopens. `endedAtMs`: when it ended (an end), or the end time it had (a reopening; undefined after an acceptance).
 */
export function noteOrderStatus(orders: Map<string, TrackedOrder>, order: TrackedOrder, endedAtMs?: number): void {
  const index = indexOf(orders)
  if (index === null) return
  file(index, order)
  const filled = index.filled
  if (filled === null) return
  if (!isTerminal(order.status)) {
    filled.remove(order.orderId)
    if (endedAtMs !== undefined) for (const run of index.runs) run.noteReopened(order, endedAtMs)
  } else if (order.cumQty !== 0n && endedAtMs !== undefined) filled.append(order, endedAtMs, false)
}

/** After an event of an ended order with a fill: files it among the ended orders with fills if its first fill was late. */
export function noteEndedFill(orders: Map<string, TrackedOrder>, order: TrackedOrder, endedOrders: ReadonlyMap<string, number>): void {
  const index = indexOf(orders)
  const filled = index?.filled ?? null
  if (index === null || filled === null || filled.get(order.orderId) !== undefined) return
  const endedAtMs = endedOrders.get(order.orderId)
  if (endedAtMs === undefined) return
  filled.append(order, endedAtMs, true)
  for (const run of index.runs) run.noteLateFill(order)
}

/** Before `orderId` leaves `orders` (retention.ts): it leaves the ended orders with fills. */
export function noteRetired(orders: Map<string, TrackedOrder>, orderId: string): void {
  indexOf(orders)?.filled?.remove(orderId)
}

/**
 * Builds the list of the ledger's ended orders with fills if it has none (from the ended-order list's newest end back,
 * in `slices`): null when it is complete, else a promise of when it is. The open-order index must be registered
 * (indexOpenOrders) first. Null rather than a resolved promise so that a run's start does not wait a turn for nothing.
 */
export function indexEndedFills(ledger: { orders: Map<string, TrackedOrder>; endedOrders: Map<string, number> }, slices: WorkSlices): Promise<void> | null {
  const index = indexOf(ledger.orders)
  assert(index !== null, 'indexEndedFills: index the open orders first')
  if (index.filled === null) {
    const filled = (index.filled = new FilledEnds())
    // Taken now: every end from here on is appended by noteOrderStatus, every one before is the walk's.
    const newest = newestEnded(ledger.endedOrders)
    index.filledBuilding = fileEndedFills(index, filled, ledger, newest, slices)
  }
  return index.filledBuilt ? null : index.filledBuilding
}

/** The ended orders with fills (indexEndedFills must have completed). */
export function endedFillsOf(orders: Map<string, TrackedOrder>): FilledEnds {
  const index = indexOf(orders)
  assert(index !== null && index.filled !== null && index.filledBuilt, 'endedFillsOf: the list of ended orders with fills is not built')
  return index.filled
}

/** Starts telling `run` of reopenings and late fills in `orders`, until the returned function is called. */
export function watchRun(orders: Map<string, TrackedOrder>, run: RunChanges): () => void {
  const index = indexOf(orders)
  assert(index !== null, 'watchRun: the held orders are not indexed')
  index.runs.add(run)
  return () => void index.runs.delete(run)
}

/**
 * The ended orders of `venue` with fills that ended at `fromMs` or later, per account, newest first (late-filled ones
 * among them as they joined), walked in `slices`. `fromMs` must be later than the ended-order list's
 * endedOutOfOrderThroughMs: the walk stops at the first non-late node that ended before it (filled-ends.ts).
 */
export async function endedFillsSince(filled: FilledEnds, venue: string, fromMs: number, slices: WorkSlices): Promise<Map<string, TrackedOrder[]>> {
  const byAccount = new Map<string, TrackedOrder[]>()
  for (let node = filled.newest(venue); node !== null && (node.late || node.endedAtMs >= fromMs); node = node.previous) {
    if (slices.spent()) await slices.rest()
    if (node.endedAtMs < fromMs) continue
    const ended = byAccount.get(node.order.accountId)
    if (ended === undefined) byAccount.set(node.order.accountId, [node.order])
    else ended.push(node.order)
  }
  return byAccount
}

/**
 * The held orders on `venue` that ended at `fromMs` or later, per account, newest first. Walked in `slices`: the list
 * is only ever appended to at the newest end, and an entry unlinked during a pause (its order retired or reopened)
 * still leads to the older ones, so the walk sees every end older than where it started that is still listed when
 * the walk gets to it. An order may have reopened since the walk passed it: the trades check reads each order's
 * state when it compares (venue-trades.ts).
 */
export async function endedSince(
  ledger: { orders: Map<string, TrackedOrder>; endedOrders: Map<string, number> },
  venue: string,
  fromMs: number,
  slices: WorkSlices,
): Promise<Map<string, TrackedOrder[]>> {
  const byAccount = new Map<string, TrackedOrder[]>()
  const stopBeforeMs = fromMs - ENDED_WALK_SLACK_MS
  for (let entry = newestEnded(ledger.endedOrders); entry !== null && entry.endedAtMs >= stopBeforeMs; entry = entry.previous) {
    if (slices.spent()) await slices.rest()
    if (entry.endedAtMs < fromMs) continue
    const order = ledger.orders.get(entry.orderId)
    if (order === undefined || order.venue !== venue) continue
    const ended = byAccount.get(order.accountId)
    if (ended === undefined) byAccount.set(order.accountId, [order])
    else ended.push(order)
  }
  return byAccount
}

/**
 * The held order of `accountId` on `venue` that the venue may know by `clientOrderId`: its own id, an applied amend's,
 * or that of an amend sent and not answered yet — the venue may apply it before egress hears, and its trades and its
 * open order then carry the new id. Without the last, such a trade read as one of an order egress does not hold (a
 * false break, never a fill in flight) and the open order as two breaks (review).
 */
export function heldOrderOf(orders: Map<string, TrackedOrder>, venue: string, accountId: string, clientOrderId: string): TrackedOrder | undefined {
  const orderId = orderIdFromClientId(clientOrderId)
  const order = orderId === null ? undefined : orders.get(orderId)
  if (order === undefined || order.venue !== venue || order.accountId !== accountId) return undefined
  if (knowsClientId(order, clientOrderId)) return order
  const amend = order.amend
  return amend !== null && amend.stage === 'sent' && clientOrderId === amendClientOrderId(order.orderId, amend.amendId) ? order : undefined
}

/** The first walk: files every held order (an order taken in or changed during a pause is filed by noteOrderStatus). */
async function fileAll(index: OpenOrderIndex, orders: Map<string, TrackedOrder>, slices: WorkSlices): Promise<void> {
  for (const order of orders.values()) {
    if (slices.spent()) await slices.rest()
    file(index, order)
  }
  index.built = true
}

/**
 * The first walk of the ended orders: files each that has a fill, from the newest end back (as the oldest so far), if it
 * is still held and ended as listed when the walk gets to it. One filed meanwhile (an end or late fill after the walk
 * started) is in already; one that reopened or was retired meanwhile is passed over.
 */
async function fileEndedFills(index: OpenOrderIndex, filled: FilledEnds, ledger: { orders: Map<string, TrackedOrder>; endedOrders: Map<string, number> }, newest: EndedEntry | null, slices: WorkSlices): Promise<void> {
  for (let entry = newest; entry !== null; entry = entry.previous) {
    if (slices.spent()) await slices.rest()
    const order = ledger.orders.get(entry.orderId)
    if (order === undefined || order.cumQty === 0n || !isTerminal(order.status) || filled.get(order.orderId) !== undefined) continue
    if (ledger.endedOrders.get(entry.orderId) !== entry.endedAtMs) continue
    filled.prepend(order, entry.endedAtMs)
  }
  index.filledBuilt = true
}

function indexOf(orders: Map<string, TrackedOrder>): OpenOrderIndex | null {
  const index = orders === lastOrders ? lastIndex : (indexes.get(orders) ?? null)
  lastOrders = orders
  lastIndex = index
  return index
}

function file(index: OpenOrderIndex, order: TrackedOrder): void {
  let accounts = index.venues.get(order.venue)
  if (accounts === undefined) index.venues.set(order.venue, (accounts = new Map()))
  let open = accounts.get(order.accountId)
  if (open === undefined) accounts.set(order.accountId, (open = new Map()))
  if (isTerminal(order.status)) open.delete(order.orderId)
  else open.set(order.orderId, order)
}
