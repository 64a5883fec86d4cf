/**
 * The kernel retires terminal orders beyond params.terminalOrdersKeptMax (src/kernel/retention.ts). The invariants
 * look at every order egress ever accepted, so they get the live state with the retired orders put back: a shadow
 * state folds the same log with retirement disabled (rebuilt from the log after every restart, then following the
 * engine's durable events), and supplies the orders the live state no longer holds — each of which must be terminal.
 */

import type { Order } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { applyInPlace, initialState, type KernelState } from '../../src/kernel/index.ts'
import { domainEventOf, type Engine } from '../../src/runtime/index.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { Violation } from './invariants.ts'

export class RetiredOrders {
  private shadow: KernelState = initialState()
  private unsubscribe: (() => void) | null = null

  /** Folds the engine's log so far, then follows its durable events. */
  attach(engine: Engine): void {
    this.detach()
    this.shadow = initialState()
    const scannedTo = engine.wal.lastLsn
    for (const frame of engine.wal.read(engine.wal.firstLsn, { toLsn: scannedTo })) {
      const event = domainEventOf(frame)
      if (event !== null) this.apply(event, frame.lsn)
    }
    this.unsubscribe = engine.onDurable((events) => {
      for (const { event, lsn } of events) if (lsn > scannedTo) this.apply(event, lsn)
    })
  }

  detach(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  /** The live state with every retired order put back (the live state's own orders win). */
  view(live: KernelState): KernelState {
    const orders = new Map<string, Order>()
    for (const [orderId, order] of this.shadow.orders) if (!live.orders.has(orderId)) orders.set(orderId, order)
    for (const [orderId, order] of live.orders) orders.set(orderId, order)
    return { ...live, orders }
  }

  /** A retired order (held by the shadow, not by the live state) must have ended. */
  check(live: KernelState): Violation[] {
    const violations: Violation[] = []
    for (const [orderId, order] of this.shadow.orders) {
      if (live.orders.has(orderId) || isTerminal(order.status)) continue
      violations.push({ invariant: 'replay-equals-live', message: `order ${orderId} left the kernel state while ${order.status}` })
    }
    return violations
  }

  private apply(event: DomainEvent, lsn: number): void {
    applyInPlace(this.shadow, event, { lsn })
    const config = this.shadow.config
    // Retirement off in the shadow (no count, no cap): it keeps every order the live state retires.
    if (event.type === 'kernel.configured' && config !== null) {
      this.shadow.config = { ...config, params: { ...config.params, terminalOrdersKeptMax: Number.MAX_SAFE_INTEGER, terminalOrdersHeldMax: Number.MAX_SAFE_INTEGER } }
    }
  }
}
