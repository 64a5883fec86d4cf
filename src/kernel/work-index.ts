/**
 * The lanes' work index: what nextWork (lanes.ts) reads instead of walking every queued order on every pick. With a
 * backlog of thousands in Lane2 and calls pipelined per venue×symbol, that walk cost O(queue) per item started, and
 * the executor's timer walked every queued order again per pump.
 *
 * Derived, never stored: built from the lane queues the first time a state is asked, then kept in step by the code
 * that changes them (syncQueues, and apply when it changes an order's notBeforeMs). It lives beside the state in a
 * WeakMap, so snapshots, clones and the log never see it; a state no one picks work from never has one.
 *
 * Each lane's items are split into groups by kind and venue×symbol (reconcile queries: by venue, they take no call
 * slot). The read-backs of Unknown orders with a cancel wanted have a rank of their own (CANCEL_READ_BACKS),
 * looked at right after Lane0: a cancel whose answer was lost is not done until the read-back tells its outcome (§6,
 * cancels pass under overload). The rank follows order.cancelWanted, which is in the order, so a rebuilt index (a
 * snapshot loaded) has it too; the lane queues are unchanged. Lane3 may be looked at before Lanes 1 and 2
 * (NextWorkOptions.lane3First). Every queued order has one entry holding its position in its lane (`seq`: the order
 * in which it joined, which is the lane Map's insertion order). A live entry is in exactly one place:
 *  - ready: in its group's heap by position;
 *  - parked: it was not due (notBeforeMs > now) when looked at; in the due heap until its notBeforeMs passes (or
 *    changes: apply tells the index and the entry is ready again). Likewise a read-back held by a back-off of the
 *    runtime's (NextWorkOptions.reconcileHeldUntilMs), until its end (a shorter one set: noteHoldChanged), and the
 *    work of an order whose send decision threw (sendHeldUntilMs), until its wait ends or any record of the order
 *    (one that leaves its work where it was makes the entry ready: syncQueues tells workKept);
 *  - held: busy, its order has a call in flight, its account's own switch holds it (account-switch.ts: whose it is is
 *    per item, not group-wide), or its reconcile query is held (options of nextWork); looked at again
 *    at every pick that reaches its rank. Kept per rank: reconcile queries backing off are not few when a venue is
 *    unreachable (one per Unknown order), and a pick that ends in Lane0 must not pay for them.
 *
 * Why the answer is the same as the walk's (the first item in lane order, FIFO within the lane, that is due, free, has
 * a call slot and is not held by a kill switch): eligibility is a conjunction of a group-wide part (the instrument has
 * a free slot for the group's lane, in-flight.ts callsMaxFor; the gateway's kill switch, which depends only on kind, lane and switch — a queued place's lane is its order's;
 * for Lanes 1–2, the instrument's request budget, NextWorkOptions.instrumentPaced; for Lanes 1–3, the venue's share of
 * the call budget, NextWorkOptions.venueHeld)
 * and a per-item part. A group failing the group-wide part holds no eligible item and is passed over whole. In any
 * other group, entries are taken off the front of the ready heap only when they fail the per-item part, and each is
 * looked at again before it could pass it (parked: when due; held: before its rank is next looked at). So each
 * group's front is its first eligible item, and the smallest position among the fronts is the rank's first eligible
 * item (a rank is a lane, or Lane3's items with a cancel wanted, each in its lane's order).
 */

import { assert } from '../domain/assert.ts'
import type { Lane } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import { callsMaxFor, everyInstrumentFull, orderInstrumentKey } from './in-flight.ts'
import type { NextWorkOptions, WorkItem } from './lanes.ts'
import { MinHeap } from './min-heap.ts'
import type { Work } from './queues.ts'
import { accountSwitchHolds, gatewaySwitchHolds } from './send.ts'
import type { KernelState, WorkKind } from './state.ts'

/** Where a group is looked at in a pick: its lane's rank, or CANCEL_READ_BACKS (Lane3 items, looked at after Lane0). */
type Rank = Lane | typeof CANCEL_READ_BACKS

interface Group {
  readonly lane: Lane
  readonly rank: Rank
  readonly kind: WorkKind
  /** The venue×symbol whose call slots the group's items take; null for reconcile queries, which take none. */
  readonly instrumentKey: string | null
  /** The venue the group's items call (NextWorkOptions.venueHeld). */
  readonly venue: string
  readonly ready: MinHeap<Entry>
  /** Live entries of the group wherever they are: bounds the stale ones left in `ready`. */
  live: number
}

interface Entry {
  readonly orderId: string
  /**
   * The state's order object: apply changes orders in place, adds one only when it is accepted (before its first work)
   * and retires only ended ones (which have no work), so it is the one in state.orders while the entry is live.
   */
  readonly order: Order
  readonly kind: WorkKind
  readonly seq: number
  readonly group: Group
  /** False once the order's work left this place (it changed or ended): the entry is dropped where it is met. */
  live: boolean
  where: 'ready' | 'parked' | 'held'
  /** Counts the entry's parkings: a due-heap node of an earlier one is stale. */
  parkings: number
}

interface Parking {
  readonly entry: Entry
  readonly parking: number
}

const LANES = [0, 1, 2, 3] as const
/** The rank of the read-backs of Unknown orders with a cancel wanted. */
const CANCEL_READ_BACKS = 4
const RANKS = [0, 1, 2, 3, CANCEL_READ_BACKS] as const
/** The order ranks are looked at in a pick; with lane3First, Lane3 before Lanes 1 and 2. */
const PICK_ORDER: readonly Rank[] = [0, CANCEL_READ_BACKS, 1, 2, 3]
const PICK_ORDER_LANE3_FIRST: readonly Rank[] = [0, CANCEL_READ_BACKS, 3, 1, 2]
const KINDS: readonly WorkKind[] = ['place', 'cancel', 'amend', 'reconcile']
const KIND_INDEX: Readonly<Record<WorkKind, number>> = { place: 0, cancel: 1, amend: 2, reconcile: 3 }
/** Stale entries a group's ready heap may keep beyond twice its live ones before it is swept. */
const STALE_SLACK = 64

export class WorkIndex {
  private readonly state: KernelState
  private readonly entries = new Map<string, Entry>()
  /** Per rank and kind (KIND_INDEX): instrument key (the venue for reconcile) → group; and the same groups as a list, to walk. */
  private readonly groupsByKey: Map<string, Group>[][] = RANKS.map(() => KINDS.map(() => new Map<string, Group>()))
  private readonly groups: Group[][] = RANKS.map(() => [])
  private readonly parked = new MinHeap<Parking>()
  /** Per rank, the entries set aside as held. */
  private readonly held: Entry[][] = RANKS.map(() => [])
  private seqNext = 0

  private constructor(state: KernelState) {
    this.state = state
  }

  /** Indexes the queues as they are, each lane in its FIFO order. */
  static build(state: KernelState): WorkIndex {
    const index = new WorkIndex(state)
    for (const lane of LANES) {
      for (const [orderId, kind] of state.queues[lane]) {
        const order = state.orders.get(orderId)
        assert(order !== undefined, () => `lane ${lane} holds ${orderId}, which the state does not hold`)
        index.add(order, lane, kind)
      }
    }
    return index
  }

  /** syncQueues moved the order's work from `before` to `after` (either may be null; they differ). */
  moved(order: Order, before: Work | null, after: Work | null): void {
    if (before !== null) this.remove(order.orderId)
    if (after !== null) this.add(order, after.lane, after.kind)
  }

  /**
   * syncQueues: an event left the order's work as it was. A read-back whose order now has a cancel wanted (an Unknown
   * order canceled) moves to CANCEL_READ_BACKS, keeping its position in Lane3. A parked venue call is looked at again:
   * the record ended the hold of a send decision that threw (NextWorkOptions.sendHeldUntilMs) — a fill of an order
   * whose amend's decision threw, say. (A read-back's order changed since any send of it: no such hold.)
   */
  workKept(order: Order): void {
    const entry = this.entries.get(order.orderId)
    if (entry === undefined) return
    if (entry.kind === 'reconcile' && entry.group.rank !== rankOf(order, entry.group.lane, entry.kind)) {
      this.remove(order.orderId)
      this.add(order, entry.group.lane, entry.kind, entry.seq)
    } else if (entry.kind !== 'reconcile' && entry.where === 'parked') this.unparkEarly(entry)
  }

  /** apply changed the order's notBeforeMs: a parked entry is looked at again (it may be due sooner). */
  dueChanged(order: Order): void {
    const entry = this.entries.get(order.orderId)
    if (entry !== undefined && entry.where === 'parked') this.unparkEarly(entry)
  }

  /** nextWork: the first eligible item in lane order, FIFO within a lane (see the file header), or null. */
  next(options: NextWorkOptions): WorkItem | null {
    const state = this.state
    this.unpark(options.nowMs)
    // Lanes 0–2 hold venue calls only: with every instrument full for a lane none of its calls can start (in-flight.ts;
    // this also keeps an order on an instrument a reconfiguration removed waiting, exactly as before).
    const placesBlocked = everyInstrumentFull(state, callsMaxFor(state, 2))
    const lane0Blocked = placesBlocked && everyInstrumentFull(state, callsMaxFor(state, 0))
    const paced = options.instrumentPaced
    const venueHeld = options.venueHeld
    for (const rank of options.lane3First === true ? PICK_ORDER_LANE3_FIRST : PICK_ORDER) {
      const lane = rank === CANCEL_READ_BACKS ? 3 : rank
      if (lane === 0 ? lane0Blocked : lane === 3 ? options.readBacksHeld === true : placesBlocked) continue
      const callsMax = callsMaxFor(state, lane)
      const held = this.held[rank] as Entry[]
      if (held.length > 0) this.recheckHeld(held, options)
      let best: Entry | null = null
      for (const group of this.groups[rank] as Group[]) {
        if (group.ready.size === 0) continue
        if (group.instrumentKey !== null && (state.callsByInstrument.get(group.instrumentKey) ?? 0) >= callsMax) continue
        if (venueHeld !== undefined && lane !== 0 && venueHeld(group.venue)) continue
        const entry = this.front(group, options)
        if (entry === null || (best !== null && entry.seq > best.seq)) continue
        if (options.placeSendsHeld === true && (entry.kind === 'place' || entry.kind === 'amend')) continue
        if (entry.kind !== 'reconcile' && gatewaySwitchHolds(state, entry.order, entry.kind) !== null) continue
        // Asked last, of a group that would be picked: the runtime counts an instrument found paced as waiting.
        if (paced !== undefined && (lane === 1 || lane === 2) && group.instrumentKey !== null && paced(group.instrumentKey)) continue
        best = entry
      }
      if (best !== null) return { lane, kind: best.kind, orderId: best.orderId, venue: best.order.venue, symbol: best.order.symbol }
    }
    return null
  }

  /**
   * The earliest notBeforeMs of the items set aside as not yet due (+Infinity when none): when a timer must wake the
   * picker. An item never looked at while not due is behind something else whose end wakes the picker anyway (a call
   * answered frees a slot; a kill switch change, a new item and a query answered are log records or answers).
   */
  nextDueMs(): number {
    const parked = this.parked
    for (let top = parked.peek(); top !== undefined; top = parked.peek()) {
      if (isCurrent(top)) break
      parked.pop()
    }
    return parked.peekKey()
  }

  /** Counts for specs and metrics: live entries, and the slots the ready heaps, the due heap and the held list use. */
  sizes(): { entries: number; readySlots: number; parkedSlots: number; held: number } {
    let readySlots = 0
    for (const groups of this.groups) for (const group of groups) readySlots += group.ready.size
    let held = 0
    for (const entries of this.held) held += entries.length
    return { entries: this.entries.size, readySlots, parkedSlots: this.parked.size, held }
  }

  /** Indexes the order's work; `seq`: its position in its lane, a new one (at the back) unless it keeps one (workKept). */
  private add(order: Order, lane: Lane, kind: WorkKind, seq = this.seqNext++): void {
    const group = this.groupFor(lane, rankOf(order, lane, kind), kind, kind === 'reconcile' ? null : orderInstrumentKey(order), order.venue)
    const entry: Entry = { orderId: order.orderId, order, kind, seq, group, live: true, where: 'ready', parkings: 0 }
    const entryCount = this.entries.size
    this.entries.set(order.orderId, entry)
    if (this.entries.size !== entryCount + 1) assert(false, `order ${order.orderId} already has work in the index`)
    group.live++
    group.ready.push(entry.seq, entry)
  }

  private remove(orderId: string): void {
    const entry = this.entries.get(orderId)
    if (entry === undefined) assert(false, `order ${orderId} has no work in the index`)
    entry.live = false
    this.entries.delete(orderId)
    const group = entry.group
    group.live--
    // Entries leave mostly from the front (sent), where the next pick drops them; ones canceled deep in a long queue
    // would otherwise stay until the front reaches them.
    if (group.ready.size > 2 * group.live + STALE_SLACK) group.ready.retain(isLive)
  }

  private groupFor(lane: Lane, rank: Rank, kind: WorkKind, instrumentKey: string | null, venue: string): Group {
    const byInstrument = this.groupsByKey[rank]?.[KIND_INDEX[kind]] as Map<string, Group>
    let group = byInstrument.get(instrumentKey ?? venue)
    if (group === undefined) {
      group = { lane, rank, kind, instrumentKey, venue, ready: new MinHeap(), live: 0 }
      byInstrument.set(instrumentKey ?? venue, group)
      this.groups[rank]?.push(group)
    }
    return group
  }

  /** The group's first ready entry that is due and not held, setting aside the ones in front of it. */
  private front(group: Group, options: NextWorkOptions): Entry | null {
    const ready = group.ready
    for (let entry = ready.peek(); entry !== undefined; entry = ready.peek()) {
      if (!entry.live) {
        ready.pop()
        continue
      }
      if (entry.order.notBeforeMs > options.nowMs) {
        ready.pop()
        this.park(entry, entry.order.notBeforeMs)
        continue
      }
      if (this.isHeld(entry, options)) {
        ready.pop()
        const untilMs = this.heldUntilMs(entry, options)
        if (untilMs > options.nowMs) this.park(entry, untilMs)
        else {
          entry.where = 'held'
          this.held[group.rank]?.push(entry)
        }
        continue
      }
      return entry
    }
    return null
  }

  /**
   * When the entry's hold ends by itself: a send decision's wait after it threw (NextWorkOptions.sendHeldUntilMs), a
   * read-back's back-off (reconcileHeldUntilMs). Such an entry is parked until then rather than held: the read-backs of
   * Unknown orders at an unreachable venue all back off, and a held list is looked at again by every pick that reaches
   * its rank — for the read-backs of wanted cancels, every pick past Lane0 (3,000 held cost a pick of Lane2 ~170 us),
   * and Lane3's at each turn of its share. Held, a wave of n places whose decisions threw (a price source down) cost
   * n²/2 looks: 2,000 took ~300 ms of the event loop, at each of their tries.
   */
  private heldUntilMs(entry: Entry, options: NextWorkOptions): number {
    const sendHeldUntilMs = options.sendHeldUntilMs === undefined ? 0 : options.sendHeldUntilMs(entry.orderId)
    if (sendHeldUntilMs > options.nowMs) return sendHeldUntilMs
    return entry.kind === 'reconcile' && options.reconcileHeldUntilMs !== undefined ? options.reconcileHeldUntilMs(entry.orderId) : 0
  }

  private isHeld(entry: Entry, options: NextWorkOptions): boolean {
    if (options.busy?.has(entry.orderId) === true) return true
    if (options.sendHeldUntilMs !== undefined && options.sendHeldUntilMs(entry.orderId) > options.nowMs) return true
    if (entry.kind === 'reconcile') return options.reconcileHeld?.has(entry.orderId) === true
    // An account's own switch holds that account's work only: per item, or its held work at a group's front would hold
    // up every other account's behind it on the same venue×symbol (the gateway's switch is group-wide: next()).
    return this.state.inFlight.has(entry.orderId) || accountSwitchHolds(this.state, entry.order, entry.kind) !== null
  }

  private park(entry: Entry, dueMs: number): void {
    entry.where = 'parked'
    entry.parkings++
    this.parked.push(dueMs, { entry, parking: entry.parkings })
  }

  private unpark(nowMs: number): void {
    const parked = this.parked
    while (parked.peekKey() <= nowMs) {
      const top = parked.pop() as Parking
      if (isCurrent(top)) this.makeReady(top.entry)
    }
  }

  private recheckHeld(held: Entry[], options: NextWorkOptions): void {
    let kept = 0
    for (const entry of held) {
      if (!entry.live) continue
      if (!this.isHeld(entry, options)) this.makeReady(entry)
      else {
        const untilMs = this.heldUntilMs(entry, options)
        if (untilMs > options.nowMs) this.park(entry, untilMs)
        else held[kept++] = entry
      }
    }
    held.length = kept
  }

  /** The parked entry is looked at again by the next pick (its due-heap node is stale from now on). */
  private unparkEarly(entry: Entry): void {
    entry.parkings++
    this.makeReady(entry)
  }

  private makeReady(entry: Entry): void {
    entry.where = 'ready'
    entry.group.ready.push(entry.seq, entry)
  }
}

/** Where an item of `lane` and `kind` is looked at: a read-back of an order with a cancel wanted after Lane0. */
function rankOf(order: Order, lane: Lane, kind: WorkKind): Rank {
  return isCancelReadBack(order, kind) ? CANCEL_READ_BACKS : lane
}

/** Is the order's `kind` of work the read-back of a wanted cancel, looked at right after Lane0 (not in Lane3's turn)? */
export function isCancelReadBack(order: Pick<Order, 'cancelWanted'>, kind: WorkKind): boolean {
  return kind === 'reconcile' && order.cancelWanted
}

function isLive(entry: Entry): boolean {
  return entry.live
}

function isCurrent(parking: Parking): boolean {
  const entry = parking.entry
  return entry.live && entry.where === 'parked' && entry.parkings === parking.parking
}

const indexes = new WeakMap<KernelState, WorkIndex>()

/** The state's work index, built on first use. */
export function workIndexOf(state: KernelState): WorkIndex {
  let index = indexes.get(state)
  if (index === undefined) {
    index = WorkIndex.build(state)
    indexes.set(state, index)
  }
  return index
}

/** syncQueues: the order's work moved (nothing to do for a state without an index, as in replay). */
export function noteWorkMoved(state: KernelState, order: Order, before: Work | null, after: Work | null): void {
  indexes.get(state)?.moved(order, before, after)
}

/** syncQueues: an event left the order's work where it was (a read-back's rank may change, a hold end: WorkIndex.workKept). */
export function noteWorkKept(state: KernelState, order: Order): void {
  indexes.get(state)?.workKept(order)
}

/** The runtime set a shorter hold on the order's read-back (NextWorkOptions.reconcileHeldUntilMs): looked at again. */
export function noteHoldChanged(state: KernelState, orderId: string): void {
  const order = state.orders.get(orderId)
  if (order !== undefined) indexes.get(state)?.dueChanged(order)
}

/** apply: the order's notBeforeMs changed. */
export function noteDueChanged(state: KernelState, order: Order): void {
  indexes.get(state)?.dueChanged(order)
}
