/**
 * Ends each order whose time-to-live passes (spec 004 §8 "TTL", src/kernel/ttl.ts): when an order's expiresAtMs comes,
 * the leader asks the kernel (`ttl_expire`) to end it — an order still queued ends unsent, one that may be at the venue
 * gets its cancel through Lane0. The kernel decides on the command's time and its own state, so a notice that comes
 * early, twice or after the order ended records nothing. Nothing depends on the timer for the one hard rule: a place
 * decided past its expiry is never sent (kernel/send.ts), so a late notice (a crash, a failover, a busy loop) only
 * leaves a resting order at the venue a little longer — until the next start, whose first check asks at once.
 *
 * The leader runs it after bootstrap, as it does the override lapses: one timer, armed for the earliest expiry it
 * holds; every order accepted with a time-to-live joins it as its record becomes durable. Bounded: the heap holds an
 * entry per order accepted with a time-to-live and not yet looked at; when it doubles, the entries of orders that have
 * ended (or left the kernel) are dropped, so it stays within twice the open orders with a time-to-live (and a floor).
 */

import { buildMemberOf } from './build-member.ts'
import type { Clock } from '../domain/clock.ts'
import { ttlEndOf } from '../kernel/ttl.ts'
import { MinHeap } from '../kernel/min-heap.ts'
import type { Order } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'
import type { Engine } from './engine.ts'
import type { AppliedEvent } from './engine-types.ts'

/** How soon an expiry the log refused (overloaded) is asked for again. */
const EXPIRE_RETRY_MS = 1_000

/** The heap size below which no sweep of ended orders' entries runs. */
const SWEEP_FLOOR = 1_024

export interface TtlExpiriesOptions {
  engine: Engine
  clock: Clock
  onError: (error: unknown, context: string) => void
}

export class TtlExpiries {
  /** expiresAtMs → order id, earliest first; entries of orders that ended meanwhile are dropped when met or swept. */
  private readonly due = new MinHeap<string>()
  private sweepAtSize = SWEEP_FLOOR
  private timerCancel: (() => void) | null = null
  /** When the armed timer fires (+Infinity when none is armed). */
  private timerAtMs = Number.POSITIVE_INFINITY
  private unsubscribe: (() => void) | null = null
  private running = false

  constructor(private readonly options: TtlExpiriesOptions) {}

  /** The expiries the kernel holds, asked for at once when already due (a leader, after bootstrap). */
  start(): void {
    if (this.running) return
    this.running = true
    for (const order of this.options.engine.state.orders.values()) {
      if (order.expiresAtMs !== null && !isEnded(order)) this.push(order.expiresAtMs, order.orderId)
    }
    this.unsubscribe = this.options.engine.onDurable(this.onDurable)
    this.check()
  }

  stop(): void {
    this.running = false
    this.unsubscribe?.()
    this.unsubscribe = null
    this.disarm()
  }

  /** Entries held (for specs and metrics): at most twice the open orders with a time-to-live, or the floor. */
  get size(): number {
    return this.due.size
  }

  private readonly onDurable = (events: AppliedEvent[]): void => {
    let earliestMs = Number.POSITIVE_INFINITY
    let nowMs: number | null = null
    for (const { event } of events) {
      if (event.type === 'order.accepted') {
        if (event.ttlMs === undefined) continue
        const expiresAtMs = event.atMs + event.ttlMs
        this.push(expiresAtMs, event.orderId)
        earliestMs = Math.min(earliestMs, expiresAtMs)
        continue
      }
      // An order past its expiry that venue news brought back live after it ended (its entry was dropped then), or
      // that a log refusal left without its cancel: asked for again. Rare; one lookup per order event otherwise.
      const orderId = 'orderId' in event && typeof event.orderId === 'string' ? event.orderId : null
      const order = orderId === null ? undefined : this.options.engine.state.orders.get(orderId)
      if (order === undefined || order.expiresAtMs === null) continue
      nowMs ??= this.options.clock.nowMs()
      if (ttlEndOf(order, nowMs) === null) continue
      this.push(order.expiresAtMs, order.orderId)
      earliestMs = Math.min(earliestMs, order.expiresAtMs)
    }
    if (earliestMs < this.timerAtMs) this.check()
  }

  private push(expiresAtMs: number, orderId: string): void {
    this.due.push(expiresAtMs, orderId)
    if (this.due.size < this.sweepAtSize) return
    const { orders } = this.options.engine.state
    this.due.retain((id) => {
      const order = orders.get(id)
      return order !== undefined && !isEnded(order)
    })
    this.sweepAtSize = Math.max(SWEEP_FLOOR, 2 * this.due.size)
  }

  /** Asks the kernel to end every order expired by now, and arms the timer for the earliest expiry after it. */
  private readonly check = (): void => {
    this.disarm()
    if (!this.running) return
    const { engine, clock } = this.options
    const nowMs = clock.nowMs()
    while (this.due.peekKey() <= nowMs) {
      const orderId = this.due.pop() as string
      const order = engine.state.orders.get(orderId)
      // Only when the kernel would act: a notice for an order ended or being canceled already would record nothing.
      if (order !== undefined && ttlEndOf(order, nowMs) !== null) this.record(orderId, nowMs)
    }
    const nextMs = this.due.peekKey()
    if (nextMs !== Number.POSITIVE_INFINITY) this.arm(nextMs, nextMs - nowMs)
  }

  private record(orderId: string, nowMs: number): void {
    const context = `the time-to-live of order ${orderId}`
    const retry = (error: unknown): void => {
      this.options.onError(error, context)
      // Asked for again a little later: a log that refused it (overloaded: nothing applied) left the order as it was.
      if (!this.running) return
      this.due.push(nowMs + EXPIRE_RETRY_MS, orderId)
      if (nowMs + EXPIRE_RETRY_MS < this.timerAtMs) this.arm(nowMs + EXPIRE_RETRY_MS, EXPIRE_RETRY_MS)
    }
    try {
      this.options.engine.submit({ kind: 'ttl_expire', nowMs, orderId, ...buildMemberOf(this.options.engine) }).catch(retry)
    } catch (error) {
      retry(error)
    }
  }

  private arm(atMs: number, delayMs: number): void {
    this.disarm()
    this.timerAtMs = atMs
    this.timerCancel = this.options.clock.schedule(Math.max(0, delayMs), this.check)
  }

  private disarm(): void {
    this.timerCancel?.()
    this.timerCancel = null
    this.timerAtMs = Number.POSITIVE_INFINITY
  }
}

function isEnded(order: Order): boolean {
  return isTerminal(order.status)
}
