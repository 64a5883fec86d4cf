/**
 * What must stay true of orders' time-to-live (src/kernel/ttl.ts, src/runtime/ttl-expiries.ts), checked by the
 * simulation after every step:
 *
 * - Log (TtlWatch, following each durable command's events): no place or amend of an order is decided
 *   (`order.send_requested`, `order.amend_send_requested`) at or after its expiry — a stale order is never sent or
 *   replaced late, whatever the timer, crashes or retries did.
 * - State: no order stays open past its expiry without a cancel asked for — ended, or canceling (CancelRequested,
 *   CancelPending, or Unknown with its cancel wanted) — once TTL_GRACE_MS has passed since the expiry, or since the
 *   gateway (re)started if it was down then (the leader's timer runs only from the end of its bootstrap).
 */

import type { DomainEvent } from '../../src/domain/events/index.ts'
import { isTerminal } from '../../src/domain/states.ts'
import type { KernelState } from '../../src/kernel/index.ts'
import { domainEventOf, type Engine } from '../../src/runtime/index.ts'
import type { Violation } from './invariants.ts'

const INVARIANT = 'order-ttl'

/**
 * How long past its expiry (or the start) an order may still be open with no cancel asked: the timer fires at the
 * expiry and its record is durable within the step; a log that refused it (overloaded) asks again after 1 s.
 */
export const TTL_GRACE_MS = 3_000

export class TtlWatch {
  private unsubscribe: (() => void) | null = null
  /** Order id → its expiry, from `order.accepted`; never forgotten within a run (an order's expiry never changes). */
  private readonly expiries = new Map<string, number>()
  private readonly found: Violation[] = []
  private readyAtMs = 0
  readonly stats = { ttlOrders: 0, lateSendsChecked: 0 }

  /** Follows `engine`'s log from its start; `readyAtMs`: when this gateway's timer started (its start's end). */
  attach(engine: Engine, readyAtMs: number): void {
    this.detach()
    this.readyAtMs = readyAtMs
    const scannedTo = engine.wal.lastLsn
    const events: DomainEvent[] = []
    for (const frame of engine.wal.read(engine.wal.firstLsn, { toLsn: scannedTo })) {
      const event = domainEventOf(frame)
      if (event !== null) events.push(event)
    }
    this.events(events)
    this.unsubscribe = engine.onDurable((applied) => this.events(applied.filter(({ lsn }) => lsn > scannedTo).map(({ event }) => event)))
  }

  detach(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  drain(): Violation[] {
    return this.found.splice(0)
  }

  private events(events: readonly DomainEvent[]): void {
    for (const event of events) {
      if (event.type === 'order.accepted' && event.ttlMs !== undefined) {
        if (!this.expiries.has(event.orderId)) this.stats.ttlOrders++
        this.expiries.set(event.orderId, event.atMs + event.ttlMs)
      }
      if (event.type !== 'order.send_requested' && event.type !== 'order.amend_send_requested') continue
      const expiresAtMs = this.expiries.get(event.orderId)
      if (expiresAtMs === undefined) continue
      this.stats.lateSendsChecked++
      if (event.atMs >= expiresAtMs) {
        const what = event.type === 'order.send_requested' ? 'sent' : `amended (amend ${event.amendId})`
        this.found.push({ invariant: INVARIANT, message: `order ${event.orderId} ${what} (attempt ${event.attempt}) at ${event.atMs}, at or after its expiry ${expiresAtMs}` })
      }
    }
  }

  /** The state's orders past their expiry (and the grace) still open with no cancel asked. */
  check(state: KernelState, nowMs: number): Violation[] {
    const violations: Violation[] = []
    for (const order of state.orders.values()) {
      if (order.expiresAtMs === null || isTerminal(order.status)) continue
      if (order.status === 'CancelRequested' || order.status === 'CancelPending' || order.cancelWanted) continue
      const dueMs = Math.max(order.expiresAtMs, this.readyAtMs) + TTL_GRACE_MS
      if (nowMs > dueMs) {
        violations.push({ invariant: INVARIANT, message: `order ${order.orderId} is ${order.status} at ${nowMs}, past its expiry ${order.expiresAtMs} by ${nowMs - order.expiresAtMs} ms, with no cancel asked` })
      }
    }
    return violations
  }
}
