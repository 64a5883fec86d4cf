/**
 * Watches the kernel as the runtime drives it, at decision time: Lane0 waiting, Lane0 priority and Unknown dwell.
 *
 * It wraps `engine.submit` and `engine.submitTo` (the executor's sends) of the gateway under test (test
 * instrumentation only: the wrapper calls the original and changes nothing). decide() and apply() run synchronously
 * inside submit, so right after the call the state shows the decision's effect, stamped with the command's `nowMs` —
 * exact simulated times, no polling.
 *
 * Lane0 wait of a cancel = time of its `cancel_send_requested` − the moment it became eligible, i.e. the later of
 * entering Lane0 and its `notBeforeMs` (a retry-after the venue asked for is the venue's doing, not starvation).
 * With it the monitor records how many calls may rightly go before it on its instrument (sends are serialised per
 * venue×symbol): the one in flight when it becomes eligible, and the Lane0 work queued ahead of it (FIFO).
 */

import { instrumentKey } from '../../src/domain/instruments.ts'
import { callSlotFree } from '../../src/kernel/in-flight.ts'
import type { KernelCommand, KernelState } from '../../src/kernel/index.ts'
import { switchHolds } from '../../src/kernel/send.ts'
import type { Engine } from '../../src/runtime/index.ts'
import type { CommandSink } from '../../src/runtime/engine.ts'

export interface Lane0Wait {
  orderId: string
  waitMs: number
  eligibleAtMs: number
  sentAtMs: number
  /** The sends that overtook this cancel while it waited (see PriorityInversion). */
  overtakers: PriorityInversion[]
  /** Calls that may rightly go first on its instrument: the one in flight and Lane0 work queued ahead of it. */
  callsAhead: number
}

/** A send went out while a Lane0 item ahead of it in priority could have gone instead. */
export interface PriorityInversion {
  atMs: number
  lane0OrderId: string
  sentOrderId: string
  sentLane: number
  sameInstrument: boolean
  /** The Lane0 order's own place call had answered at this very instant (its result just became durable). */
  ownPlaceJustAnswered: boolean
}

export interface UnknownDwell {
  orderId: string
  sinceMs: number
  resolvedAtMs: number
  dwellMs: number
}

export class Monitor {
  /** Collected since the last `drain()`. */
  lane0Waits: Lane0Wait[] = []
  inversions: PriorityInversion[] = []
  dwells: UnknownDwell[] = []
  lane0WaitMsMax = 0
  lane0CallsAheadMax = 0
  lane0Sends = 0
  unknownDwellMsMax = 0
  unknownCount = 0
  readonly #lane0 = new Map<string, { enteredAtMs: number; overtakers: PriorityInversion[]; callsAhead: number }>()
  readonly #placeAnsweredAtMs = new Map<string, number>()
  readonly #unknown = new Map<string, number>()
  #detach: (() => void) | null = null

  /** Starts watching `engine` (a fresh gateway after a restart); Lane0 waiting restarts from now. */
  attach(engine: Engine, nowMs: number): void {
    this.detach()
    this.#lane0.clear()
    // submit() goes through submitIfRoom(), as the executor's answers (held-answers.ts) do: watched there, once.
    const original = engine.submitIfRoom
    let active = true
    engine.submitIfRoom = (command: KernelCommand) => {
      if (active) this.#beforeDecide(engine.state, command)
      const committed = original.call(engine, command)
      if (active) this.#afterApply(engine.state, command.nowMs)
      return committed
    }
    // The executor's send decisions come through submitTo (a sink of its own, no promise): watched alike.
    const originalTo = engine.submitTo
    engine.submitTo = (command: KernelCommand, sink: CommandSink) => {
      if (active) this.#beforeDecide(engine.state, command)
      originalTo.call(engine, command, sink)
      if (active) this.#afterApply(engine.state, command.nowMs)
    }
    this.#detach = () => {
      active = false
      engine.submitIfRoom = original
      engine.submitTo = originalTo
    }
    this.#afterApply(engine.state, nowMs)
  }

  /** Stops watching (a crash): the abandoned engine's later decisions mean nothing. */
  detach(): void {
    this.#detach?.()
    this.#detach = null
  }

  /** Unknown orders still open, with the time each became Unknown. */
  openUnknowns(): ReadonlyMap<string, number> {
    return this.#unknown
  }

  drain(): { lane0Waits: Lane0Wait[]; inversions: PriorityInversion[]; dwells: UnknownDwell[] } {
    const drained = { lane0Waits: this.lane0Waits, inversions: this.inversions, dwells: this.dwells }
    this.lane0Waits = []
    this.inversions = []
    this.dwells = []
    return drained
  }

  /**
   * The executor must pick the first eligible item in (lane, FIFO) order. Before each send decision, every Lane0 item
   * that comes before the one being sent (all of Lane0 for a Lane1/2 place; the items queued ahead of it for a Lane0
   * item) and could have been sent — due, room for its call (none of its own in flight, its instrument below its lane's bound, in-flight.ts callsMaxFor), not held by a kill switch — was overtaken.
   */
  #beforeDecide(state: KernelState, command: KernelCommand): void {
    if (command.kind === 'place_result') this.#placeAnsweredAtMs.set(command.orderId, command.nowMs)
    if (command.kind !== 'send') return
    const sending = state.orders.get(command.orderId)
    if (sending === undefined) return
    const sendingSlot = instrumentKey(sending.venue, sending.symbol)
    for (const [orderId, kind] of state.queues[0]) {
      if (orderId === command.orderId) break
      const order = state.orders.get(orderId)
      if (order === undefined || order.notBeforeMs > command.nowMs) continue
      if (kind === 'place' && switchHolds(state, order, 'place') !== null) continue
      if (!callSlotFree(state, order)) continue
      const slot = instrumentKey(order.venue, order.symbol)
      const ownPlaceJustAnswered = this.#placeAnsweredAtMs.get(orderId) === command.nowMs
      const sameInstrument = slot === sendingSlot
      const inversion = { atMs: command.nowMs, lane0OrderId: orderId, sentOrderId: command.orderId, sentLane: sending.lane, sameInstrument, ownPlaceJustAnswered }
      this.inversions.push(inversion)
      this.#lane0.get(orderId)?.overtakers.push(inversion)
    }
  }

  #afterApply(state: KernelState, nowMs: number): void {
    const lane0 = state.queues[0]
    const queuedBySlot = new Map<string, number>()
    for (const [orderId, kind] of lane0) {
      const order = state.orders.get(orderId)
      const slot = order === undefined ? '' : instrumentKey(order.venue, order.symbol)
      const queuedAhead = queuedBySlot.get(slot) ?? 0
      queuedBySlot.set(slot, queuedAhead + 1)
      if (kind !== 'cancel' || this.#lane0.has(orderId)) continue
      // FIFO within Lane0: what is queued ahead now can only shrink (anything entering later queues behind). Plus
      // one call that may hold the instrument when the cancel becomes eligible (it may start after this moment, while
      // the cancel still waits out a retry-after).
      const callsAhead = queuedAhead + 1
      this.#lane0.set(orderId, { enteredAtMs: nowMs, overtakers: [], callsAhead })
    }
    for (const [orderId, tracked] of this.#lane0) {
      if (lane0.get(orderId) === 'cancel') continue
      this.#lane0.delete(orderId)
      const order = state.orders.get(orderId)
      if (order?.status !== 'CancelPending') continue // left Lane0 another way (filled, canceled, Unknown)
      const eligibleAtMs = Math.max(tracked.enteredAtMs, order.notBeforeMs)
      const waitMs = Math.max(0, nowMs - eligibleAtMs)
      this.lane0Sends++
      this.lane0WaitMsMax = Math.max(this.lane0WaitMsMax, waitMs)
      this.lane0CallsAheadMax = Math.max(this.lane0CallsAheadMax, tracked.callsAhead)
      this.lane0Waits.push({ orderId, waitMs, eligibleAtMs, sentAtMs: nowMs, overtakers: tracked.overtakers, callsAhead: tracked.callsAhead })
    }
    const unknown = state.queues[3]
    for (const orderId of unknown.keys()) {
      if (this.#unknown.has(orderId)) continue
      this.#unknown.set(orderId, state.orders.get(orderId)?.unknownSinceMs ?? nowMs)
      this.unknownCount++
    }
    for (const [orderId, sinceMs] of this.#unknown) {
      if (unknown.has(orderId)) continue
      this.#unknown.delete(orderId)
      const dwellMs = nowMs - sinceMs
      this.unknownDwellMsMax = Math.max(this.unknownDwellMsMax, dwellMs)
      this.dwells.push({ orderId, sinceMs, resolvedAtMs: nowMs, dwellMs })
    }
  }
}
