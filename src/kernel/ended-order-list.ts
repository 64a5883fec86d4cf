/**
 * The order in which the terminal orders of `state.terminalOrderIds` ended, as a doubly linked list kept beside that
 * Map (one list per Map object). Retirement (retention.ts) looks at the oldest entries after every order event.
 * Walking the Map itself cost a fresh iterator each time and, once entries had been retired from its front, a step
 * over every deleted slot the engine keeps until it rehashes — O(retirements) per walk, and copying the Map to shed
 * them cost as much again (together ~1.2 µs per retiring event, a quarter of replay's apply time). The list finds the
 * oldest entry in O(1), unlinks a retired one in O(1) and has no holes.
 *
 * The Map stays the state (snapshot, digest and clone read it); the list is a cache of its order, built from the Map
 * the first time a Map object is seen (a restored snapshot, a clone) and rebuilt whenever its size differs from the
 * Map's. Change terminalOrderIds only through these functions; retirement checks each entry it retires against the
 * Map (entryEndedAtMs), so one changed behind the list's back fails an assertion instead of retiring the wrong order.
 */

import { assert } from '../domain/assert.ts'

export interface EndedEntry {
  readonly orderId: string
  readonly endedAtMs: number
  previous: EndedEntry | null
  next: EndedEntry | null
}

interface EndedList {
  first: EndedEntry | null
  last: EndedEntry | null
  size: number
  /** The latest end time ever appended (−∞ for none). */
  maxEndedAtMs: number
  /** The latest end time ever appended before one that ended earlier (−∞ for none): see endedOutOfOrderThroughMs. */
  inversionHighMs: number
}

const lists = new WeakMap<Map<string, number>, EndedList>()
// The Map and list last used: apply works on one state's Map event after event, so this spares the WeakMap lookup.
// Holding one Map strongly keeps at most one discarded state's Map alive, until another Map is used.
let lastMap: Map<string, number> | null = null
let lastList: EndedList | null = null

/** The oldest entry (the order that ended first), or null when there is none. */
export function oldestEnded(ended: Map<string, number>): EndedEntry | null {
  return listOf(ended).first
}

/**
 * The newest entry (the order that ended last), or null; walk older ones through `previous`. An entry unlinked later
 * keeps its `previous`, so a walk that pauses on it still reaches every older entry (the list only grows at this end).
 */
export function newestEnded(ended: Map<string, number>): EndedEntry | null {
  return listOf(ended).last
}

/**
 * The time after which the list is in end-time order: every entry that ended later than this lies after every entry
 * that ended at it or before, and those entries' times never decrease along the list. End times come from the wall
 * clock, which may step back; this is the latest time ever appended before an entry that ended earlier, −∞ when none
 * was. Unlinking keeps the property, so it is kept up as entries are appended only (a rebuilt list works it out
 * again). The reconcile's held-order index relies on it to find recent ends by their time (held-order-index.ts).
 */
export function endedOutOfOrderThroughMs(ended: Map<string, number>): number {
  return listOf(ended).inversionHighMs
}

/** Records that `orderId` ended at `endedAtMs`, after every order that ended before it. */
export function addEnded(ended: Map<string, number>, orderId: string, endedAtMs: number): void {
  const list = listOf(ended)
  const sizeBefore = ended.size
  ended.set(orderId, endedAtMs)
  if (ended.size === sizeBefore) {
    // The key was there and Map.set kept its place: never happens in apply (an order leaves the Map when it
    // reopens), and rebuilding the list from the Map keeps it exact if it ever does.
    forget(ended)
    return
  }
  append(list, orderId, endedAtMs)
}

/** Forgets `orderId` (an order that reopened). Searched from the newest end: orders reopen soon after ending, rarely. */
export function removeEnded(ended: Map<string, number>, orderId: string): void {
  if (!ended.has(orderId)) return
  const list = listOf(ended)
  ended.delete(orderId)
  let entry = list.last
  while (entry !== null && entry.orderId !== orderId) entry = entry.previous
  assert(entry !== null, () => `ended order ${orderId} is in terminalOrderIds but not in its list`)
  unlink(list, entry)
}

/** Removes `entry` (from oldestEnded or a later entry's walk) from the Map and the list. */
export function retireEnded(ended: Map<string, number>, entry: EndedEntry): void {
  const list = listOf(ended)
  ended.delete(entry.orderId)
  unlink(list, entry)
}

/** The entry's end time as the Map holds it, asserted equal to the list's. */
export function entryEndedAtMs(ended: Map<string, number>, entry: EndedEntry): number {
  const endedAtMs = ended.get(entry.orderId)
  assert(endedAtMs === entry.endedAtMs, () => `terminalOrderIds changed outside ended-order-list.ts: ${entry.orderId} ended at ${endedAtMs}, list says ${entry.endedAtMs}`)
  return endedAtMs
}

function listOf(ended: Map<string, number>): EndedList {
  let list = ended === lastMap ? lastList : lists.get(ended)
  if (list === undefined || list === null || list.size !== ended.size) {
    list = { first: null, last: null, size: 0, maxEndedAtMs: Number.NEGATIVE_INFINITY, inversionHighMs: Number.NEGATIVE_INFINITY }
    for (const [orderId, endedAtMs] of ended) append(list, orderId, endedAtMs)
    lists.set(ended, list)
  }
  lastMap = ended
  lastList = list
  return list
}

function forget(ended: Map<string, number>): void {
  lists.delete(ended)
  if (lastMap === ended) {
    lastMap = null
    lastList = null
  }
}

function append(list: EndedList, orderId: string, endedAtMs: number): void {
  const entry: EndedEntry = { orderId, endedAtMs, previous: list.last, next: null }
  if (list.last === null) list.first = entry
  else list.last.next = entry
  list.last = entry
  list.size++
  if (endedAtMs < list.maxEndedAtMs) {
    if (list.maxEndedAtMs > list.inversionHighMs) list.inversionHighMs = list.maxEndedAtMs
  } else list.maxEndedAtMs = endedAtMs
}

function unlink(list: EndedList, entry: EndedEntry): void {
  if (entry.previous === null) list.first = entry.next
  else entry.previous.next = entry.next
  if (entry.next === null) list.last = entry.previous
  else entry.next.previous = entry.previous
  list.size--
}
