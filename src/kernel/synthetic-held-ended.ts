/**
 * The ended orders that still hold for synthetic quantity pending a true-up, by end time: what hold rule 2
 * (reservations.ts HOLD_RULE_RETIRED) retires a grace after their end however few orders end (retention.ts, and the back
 * office's src/backoffice/retention.ts, over its own `endedOrders`). They are few — a synthetic fill whose real fills
 * have not come yet — so the retirement looks only at them, never at every ended order: the oldest entry answers in
 * O(1) whether one is due, at every event.
 *
 * A cache beside an ended-orders Map (`state.terminalOrderIds`, the ledger's `endedOrders`), one per Map object, like
 * ended-order-list.ts: never state, never in a snapshot. It is built from the Map and the orders the first time a Map
 * object is seen (a restored snapshot, a clone, a log adopting the rule) and kept up by noteHeldEnded after every order
 * event and forgetHeldEnded at every retirement: it always holds exactly the ended orders `holds` says hold. Entries are
 * in (end time, order id) order, so a state rebuilt from a snapshot lists them as the live one did and retires the due
 * ones in the same order.
 */

import { assert } from '../domain/assert.ts'

interface HeldEntry {
  readonly orderId: string
  readonly endedAtMs: number
  previous: HeldEntry | null
  next: HeldEntry | null
}

interface HeldIndex {
  first: HeldEntry | null
  last: HeldEntry | null
  entries: Map<string, HeldEntry>
}

/**
 * Whether the order of this id, ended, holds for synthetic quantity, read from `source` (the state the Map belongs
 * to). A function of the module with its state passed, not a closure made per event.
 */
export type HoldsSynthetic<S> = (source: S, orderId: string) => boolean

const indexes = new WeakMap<Map<string, number>, HeldIndex>()
const NONE_DUE: readonly string[] = Object.freeze([])

/**
 * After an order event: `orderId`'s entry follows whether it is ended and holds now. Builds the index (from every
 * ended order) the first time this Map is seen, which already reflects the event.
 */
export function noteHeldEnded<S>(ended: Map<string, number>, orderId: string, source: S, holds: HoldsSynthetic<S>): void {
  const index = indexOf(ended, source, holds)
  const entry = index.entries.get(orderId)
  const endedAtMs = ended.get(orderId)
  const held = endedAtMs !== undefined && holds(source, orderId)
  if (entry !== undefined && !held) unlink(index, entry)
  else if (entry === undefined && held) insert(index, orderId, endedAtMs)
}

/** The order retired (or its Map's orders otherwise left): its entry goes. Builds nothing. */
export function forgetHeldEnded(ended: Map<string, number>, orderId: string): void {
  const index = indexes.get(ended)
  const entry = index?.entries.get(orderId)
  if (index !== undefined && entry !== undefined) unlink(index, entry)
}

/** Drops the index of this Map: the log adopted a hold rule, and the next note builds it again from the state. */
export function dropHeldEnded(ended: Map<string, number>): void {
  indexes.delete(ended)
}

/**
 * The ids of the ended orders holding for synthetic quantity that ended at `throughMs` or before, oldest first. Costs
 * O(1) when none did, plus one step per one that did (a busy one the caller skips is looked at again next time, as
 * the retirement walk over all ended orders does).
 */
export function heldEndedThrough<S>(ended: Map<string, number>, throughMs: number, source: S, holds: HoldsSynthetic<S>): readonly string[] {
  const index = indexOf(ended, source, holds)
  // Asked after every order event and mostly answered none: no array made for that.
  if (index.first === null || index.first.endedAtMs > throughMs) return NONE_DUE
  const due: string[] = []
  for (let entry: HeldEntry | null = index.first; entry !== null && entry.endedAtMs <= throughMs; entry = entry.next) {
    // Pair check: what the index says against the Map and the order, the state.
    assert(ended.get(entry.orderId) === entry.endedAtMs && holds(source, entry.orderId), () => `synthetic-held ended order ${entry.orderId} changed behind its index`)
    due.push(entry.orderId)
  }
  return due
}

function indexOf<S>(ended: Map<string, number>, source: S, holds: HoldsSynthetic<S>): HeldIndex {
  let index = indexes.get(ended)
  if (index === undefined) {
    index = { first: null, last: null, entries: new Map() }
    for (const [orderId, endedAtMs] of ended) if (holds(source, orderId)) insert(index, orderId, endedAtMs)
    indexes.set(ended, index)
  }
  return index
}

function before(a: { endedAtMs: number; orderId: string }, b: { endedAtMs: number; orderId: string }): boolean {
  return a.endedAtMs < b.endedAtMs || (a.endedAtMs === b.endedAtMs && a.orderId < b.orderId)
}

/** Inserted from the newest end: an order mostly starts to hold as it ends, after every one held before. */
function insert(index: HeldIndex, orderId: string, endedAtMs: number): void {
  const entry: HeldEntry = { orderId, endedAtMs, previous: index.last, next: null }
  while (entry.previous !== null && before(entry, entry.previous)) entry.previous = entry.previous.previous
  entry.next = entry.previous === null ? index.first : entry.previous.next
  if (entry.previous === null) index.first = entry
  else entry.previous.next = entry
  if (entry.next === null) index.last = entry
  else entry.next.previous = entry
  index.entries.set(orderId, entry)
}

function unlink(index: HeldIndex, entry: HeldEntry): void {
  if (entry.previous === null) index.first = entry.next
  else entry.previous.next = entry.next
  if (entry.next === null) index.last = entry.previous
  else entry.next.previous = entry.previous
  index.entries.delete(entry.orderId)
}
