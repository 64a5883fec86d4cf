/**
 * The idempotency key window: a key is held for params.idempotencyKeyHeldMs (event time) after the decision that took
 * it, and then for as long as the kernel holds its order; then it is forgotten, so the index is bounded by the order
 * rate over the window, and by params.idempotencyKeysHeldMax (intake refuses new orders at it: forgetting a key early
 * would let a client's retry place its order twice). A flatten's closes are not refused at the cap (a kill switch): they
 * take keys past it, up to one flatten's most (flatten-keys.ts, counting the keys the index lets go: keysFreedAt). A
 * log configured without the window holds every key for good.
 *
 * Forgetting, as a pure function of the events applied (replay, a standby and a restored snapshot forget the same
 * keys at the same events):
 * - when a new key is taken (order.accepted, order.rejected), the keys at the head of the decision-order queue that
 *   have aged out are forgotten, except those whose order the kernel still holds (open, or ended within its grace);
 *   those leave the queue and stay in the index;
 * - when retention retires an order (retention.ts), its key is forgotten if it has aged out.
 * An aged key whose order is held is thus forgotten exactly when the order is retired. The queue is a cache of the
 * index's insertion order (built from the index the first time an index object is seen: a restored snapshot, a
 * clone), so a rebuilt queue holds again such keys that had left it; walking them again changes nothing, since their
 * orders are still held, which is why the two hooks agree with a queue rebuilt at any event.
 *
 * Each queue item carries the time of the entry it was made for: a key forgotten and taken again has a new entry,
 * and the old item is dropped when the walk meets it.
 */

import type { KernelConfig } from '../domain/kernel-config.ts'
import type { Order } from '../domain/orders.ts'
import { KeyQueue } from './key-queue.ts'
import { dueForRetirement, retireDueAt } from './retention.ts'
import { idempotencyIndexKey, type IdempotencyEntry, type KernelState } from './state.ts'

/**
 * Deletions one walk makes at most (skipped keys of held orders are not counted): a day's keys that age out together —
 * after a quiet night, or an hour's under a window shorter than one — go a few per order over the next orders instead of
 * in one call that held the event loop (1.8 s for 2M keys). Counting only deletions, a walk over a rebuilt queue (which
 * holds such skipped keys again) deletes the same keys at the same events as the live one.
 */
const FORGET_PER_WALK_MAX = 64

const queues = new WeakMap<Map<string, IdempotencyEntry>, KeyQueue>()

/** The window in ms, or null when the log's config has none (keys held for good). */
export function keyWindowMs(state: KernelState): number | null {
  return state.config?.params.idempotencyKeyHeldMs ?? null
}

/**
 * The span ids derived from a key take the number of (intake/place.ts orderIdFor, flatten.ts): an hour, whatever the
 * window. A key is forgotten only once the span of its decision has ended (agedOut), so a key taken again is taken in a
 * later span and names a new id; the span being fixed, no change of the window by config can make two spans' ids meet.
 */
const KEY_SPAN_MS = 3_600_000

/**
 * What an id derived from a key takes from the window: the number of the span `nowMs` falls in, or nothing without a
 * window (a log configured before it keeps its ids). A retry of a refused order within the same span keeps its id.
 */
export function keySpanSuffix(state: KernelState, nowMs: number): string {
  return keyWindowMs(state) === null ? '' : `\nspan ${Math.floor(nowMs / KEY_SPAN_MS)}`
}

/** Whether the entry's window has passed at `atMs`, and the span its id was derived in has ended. */
function agedOut(entry: IdempotencyEntry, windowMs: number, atMs: number): boolean {
  return keyAgedOut(entry.decidedAtMs, windowMs, atMs)
}

/** agedOut for a key decided at `decidedAtMs` (a flatten's too: flatten-held.ts). */
export function keyAgedOut(decidedAtMs: number, windowMs: number, atMs: number): boolean {
  return atMs - decidedAtMs >= windowMs && Math.floor(atMs / KEY_SPAN_MS) > Math.floor(decidedAtMs / KEY_SPAN_MS)
}

function queueOf(index: Map<string, IdempotencyEntry>): KeyQueue {
  let queue = queues.get(index)
  if (queue === undefined) {
    queue = new KeyQueue()
    for (const [indexKey, entry] of index) queue.push(indexKey, entry.decidedAtMs)
    queues.set(index, queue)
  }
  return queue
}

/**
 * Takes a new key into the index (the only way apply adds one): first forgets what the window lets go at the entry's
 * time, then sets the entry and queues it.
 */
export function takeKey(state: KernelState, indexKey: string, entry: IdempotencyEntry): void {
  const windowMs = keyWindowMs(state)
  if (windowMs !== null) forgetAged(state, windowMs, entry.decidedAtMs)
  state.idempotency.set(indexKey, entry)
  if (windowMs !== null) queueOf(state.idempotency).push(indexKey, entry.decidedAtMs)
}

/**
 * Forgets what the window lets go at `atMs` without taking a key: at a rejection that takes none (a retryable one,
 * the cap's among them), so a full index frees the keys that aged out while every new order was refused. The ended
 * orders retention may retire by then are retired first (retention.ts retireDueAt): their keys are held while they are.
 */
export function forgetAgedAt(state: KernelState, atMs: number): void {
  const windowMs = keyWindowMs(state)
  if (windowMs === null) return
  retireDueAt(state, atMs)
  forgetAged(state, windowMs, atMs)
}

function forgetAged(state: KernelState, windowMs: number, atMs: number): void {
  const index = state.idempotency
  const queue = queueOf(index)
  let deleted = 0
  while (!queue.empty && deleted < FORGET_PER_WALK_MAX) {
    const indexKey = queue.frontKey
    const entry = index.get(indexKey)
    if (entry !== undefined && entry.decidedAtMs === queue.frontTime) {
      if (!agedOut(entry, windowMs, atMs)) break
      // Held with its order: forgotten when retention retires the order (forgetRetired).
      if (!state.orders.has(entry.orderId)) {
        index.delete(indexKey)
        deleted++
      }
    }
    queue.shift()
  }
}

/** Called by retention as it retires `order` at an event of time `atMs`: its key goes too if its window has passed. */
export function forgetRetired(state: KernelState, order: Order, atMs: number): void {
  const windowMs = keyWindowMs(state)
  if (windowMs === null) return
  const indexKey = idempotencyIndexKey(order.accountId, order.idempotencyKey)
  const entry = state.idempotency.get(indexKey)
  if (entry !== undefined && entry.orderId === order.orderId && agedOut(entry, windowMs, atMs)) state.idempotency.delete(indexKey)
}

/** Whether the index holds as many keys as its cap allows: a definite rejection then takes none (apply.ts). */
export function keysAtCap(state: KernelState): boolean {
  const cap = state.config?.params.idempotencyKeysHeldMax
  return cap !== undefined && keyWindowMs(state) !== null && state.idempotency.size >= cap
}

/**
 * The cap on keys held when the index is at it and taking a key at `nowMs` would not keep it there (intake refuses
 * new orders then: guard-lane.ts), else null. Only looks: the walk that forgets is apply's. A leg view counts the key
 * its first leg takes in the same decision (withPendingKey): the walks of both legs must forget one key each, or an
 * OCO list took one key past the cap.
 */
export function keysCapReached(state: KernelState, nowMs: number): number | null {
  const cap = state.config?.params.idempotencyKeysHeldMax
  const pending = pendingKeys.get(state) ?? 0
  if (cap === undefined || state.idempotency.size + pending < cap) return null
  const windowMs = keyWindowMs(state)
  // Past the cap (an adopted log's keys) one key forgotten per key taken is enough: the index shrinks toward it.
  const forgetsNeeded = Math.min(state.idempotency.size + pending + 1 - cap, pending + 1)
  return windowMs !== null && forgettableCount(state, windowMs, nowMs, forgetsNeeded) >= forgetsNeeded ? null : cap
}

/**
 * How many keys the index lets go at `atMs`, counted up to `countMax`, retiring and forgetting none: those of the ended
 * orders retention retires at the next order event (retireDueAt's, whose aged keys forgetRetired drops), and the aged
 * keys of orders no longer held that the walks forget (at least one per key taken while any is left). A flatten counts
 * them before it takes keys past the cap (flatten-keys.ts): counted by the walk alone, a quiet gateway, which retires
 * ended orders only at order events, left their keys held and a kill switch's closes withheld for as long as no order
 * event came. Those retirement frees go at the first order event after (the closes' own).
 */
export function keysFreedAt(state: KernelState, atMs: number, countMax: number): number {
  const windowMs = keyWindowMs(state)
  if (windowMs === null || countMax <= 0) return 0
  let count = 0
  for (const orderId of dueForRetirement(state, atMs)) {
    if (count >= countMax) return count
    const order = state.orders.get(orderId)
    const entry = order === undefined ? undefined : state.idempotency.get(idempotencyIndexKey(order.accountId, order.idempotencyKey))
    if (entry !== undefined && entry.orderId === orderId && agedOut(entry, windowMs, atMs)) count++
  }
  return count >= countMax ? count : count + forgettableCount(state, windowMs, atMs, countMax - count)
}

const pendingKeys = new WeakMap<KernelState, number>()

/** The leg view `view` counts one key more than its index holds: the first leg's, decided but not applied. */
export function withPendingKey(view: KernelState): KernelState {
  pendingKeys.set(view, (pendingKeys.get(view) ?? 0) + 1)
  return view
}

/** How many keys the walks at `atMs` would forget, counted up to `countMax`. */
function forgettableCount(state: KernelState, windowMs: number, atMs: number, countMax: number): number {
  const index = state.idempotency
  let count = 0
  queueOf(index).visitFromFront((indexKey, decidedAtMs) => {
    const entry = index.get(indexKey)
    if (entry === undefined || entry.decidedAtMs !== decidedAtMs) return true
    if (!agedOut(entry, windowMs, atMs)) return false
    if (!state.orders.has(entry.orderId)) count++
    return count < countMax
  })
  return count
}

/**
 * How long the keys a log held when it adopts the window stay held from then: their true ages are unknown to a state
 * restored from an older snapshot, so all are stamped alike — long enough for a client retrying across the upgrade,
 * short enough that a log holding more keys than the cap does not refuse every new order for a whole window (review:
 * a day of OVERLOADED after the upgrade).
 */
const ADOPTED_KEYS_HELD_MS = 3_600_000

/**
 * At every kernel.configured, before `state.config` takes it. One that brings the window to a log that had none: every
 * key held is stamped as decided ADOPTED_KEYS_HELD_MS less a window before it, so each is held an hour from the
 * adoption (and while its order is held); with the index at its cap, only the newest half of the cap is, the rest stamped
 * as long aged — a state restored from an older snapshot (whose entries carry no time) and
 * one replayed from scratch hold the same keys after. One that changes the window rebuilds the walk's queue.
 */
export function adoptKeyWindow(state: KernelState, config: KernelConfig, atMs: number): void {
  const windowMs = keyWindowMs(state)
  const adopted = config.params.idempotencyKeyHeldMs
  // Another window: the queue walked so far left out aged keys of held orders the new one may forget by their walk,
  // so it is rebuilt from the index, as a restored state's is (review: a raised window kept such a key for good).
  if (windowMs !== null && adopted !== windowMs) queues.delete(state.idempotency)
  if (windowMs !== null || adopted === undefined) return
  const index = state.idempotency
  // Times are never below 0 (the snapshot's column holds none): only a log that starts near the epoch comes close.
  const heldAtMs = Math.max(0, atMs - adopted + ADOPTED_KEYS_HELD_MS)
  // Past the cap, only the newest half of it is held the hour; the older keys are stamped as long aged (their orders'
  // keys still held while the orders are): new orders have room at once rather than after the hour.
  const cap = config.params.idempotencyKeysHeldMax ?? Number.POSITIVE_INFINITY
  const agedFrom = index.size >= cap ? index.size - Math.floor(cap / 2) : 0
  const agedAtMs = Math.max(0, atMs - adopted - KEY_SPAN_MS)
  const stamped: [string, IdempotencyEntry][] = []
  for (const [indexKey, entry] of index) stamped.push([indexKey, { ...entry, decidedAtMs: stamped.length < agedFrom ? agedAtMs : heldAtMs }])
  // New entry objects: a state cloned before shares the old ones.
  for (const [indexKey, entry] of stamped) index.set(indexKey, entry)
  queues.delete(index)
}
