/**
 * The order-path latencies (accept → first send, first send → venue ack, accept → first fill), measured from the
 * events' own times (`atMs`). Each timed order holds one entry — its accept and first-send times — from its
 * `order.accepted` until nothing can give it another sample: its first fill, or an end no fill can follow
 * (rejected at the venue or at send, reconciled to Rejected, Filled or Failed).
 *
 * An order the venue confirms canceled or expired is not over for its fills: a fill racing the cancel lands after
 * `order.cancel_acked`, or even after `order.canceled` / `order.expired` (kernel/state-machine.ts: a late fill after
 * the venue confirmed a cancel or expiry). Such an order keeps its entry for `lateFillWindowMs` (event time) after
 * the first of those events, so the racing fill still gives its accept → first-fill sample; then the entry goes.
 * Entries are at most `trackedOrdersMax` (an order accepted beyond that is not timed), so memory is bounded by count
 * and, for ended orders, by time.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Histogram } from './metrics/index.ts'

export interface OrderTimingsOptions {
  /** Orders timed at once; beyond it a newly accepted order is not timed. */
  trackedOrdersMax: number
  /** How long after a cancel ack, cancel or expiry an order's entry waits for a late fill (event time, ms). */
  lateFillWindowMs: number
}

export interface OrderTimingHistograms {
  acceptToSent: Histogram
  sentToAck: Histogram
  acceptToFill: Histogram
}

interface Timing {
  acceptedAtMs: number
  sentAtMs: number | null
}

export class OrderTimings {
  readonly #timings = new Map<string, Timing>()
  /** Orders whose venue said canceled or expired, by when it first did; in insertion order, so oldest first. */
  readonly #lingering = new Map<string, number>()
  readonly #histograms: OrderTimingHistograms
  readonly #options: OrderTimingsOptions

  constructor(histograms: OrderTimingHistograms, options: OrderTimingsOptions) {
    this.#histograms = histograms
    this.#options = options
  }

  onEvent(event: DomainEvent): void {
    this.expireLingering(event.atMs)
    switch (event.type) {
      case 'order.accepted':
        if (this.#timings.size < this.#options.trackedOrdersMax) this.#timings.set(event.orderId, { acceptedAtMs: event.atMs, sentAtMs: null })
        return
      case 'order.send_requested': {
        const timing = this.#timings.get(event.orderId)
        if (timing !== undefined && timing.sentAtMs === null) {
          timing.sentAtMs = event.atMs
          this.#histograms.acceptToSent.observe((event.atMs - timing.acceptedAtMs) / 1000)
        }
        return
      }
      case 'order.send_acked': {
        const timing = this.#timings.get(event.orderId)
        if (timing?.sentAtMs != null) this.#histograms.sentToAck.observe((event.atMs - timing.sentAtMs) / 1000)
        return
      }
      case 'order.fill': {
        const timing = this.#timings.get(event.orderId)
        if (timing !== undefined) this.#histograms.acceptToFill.observe((event.atMs - timing.acceptedAtMs) / 1000)
        this.forget(event.orderId)
        return
      }
      case 'order.send_blocked':
        // A blocked place ends the order's timings: Rejected, or (sent before) Unknown and read back (kernel/send.ts), its
        // send long past. A blocked cancel or amend leaves it live.
        if (event.action === 'place') this.forget(event.orderId)
        return
      case 'order.venue_rejected':
        this.forget(event.orderId)
        return
      case 'order.cancel_acked':
      case 'order.canceled':
      case 'order.expired':
        this.linger(event.orderId, event.atMs)
        return
      case 'order.reconciled':
        if (event.to === 'Canceled' || event.to === 'Expired') this.linger(event.orderId, event.atMs)
        else if (event.to === 'Rejected' || event.to === 'Filled' || event.to === 'Failed') this.forget(event.orderId)
        return
    }
  }

  private linger(orderId: string, atMs: number): void {
    if (this.#timings.has(orderId) && !this.#lingering.has(orderId)) this.#lingering.set(orderId, atMs)
  }

  private forget(orderId: string): void {
    this.#timings.delete(orderId)
    this.#lingering.delete(orderId)
  }

  /** Drops the entries whose late-fill window ended before `nowMs`, oldest first. */
  private expireLingering(nowMs: number): void {
    for (const [orderId, sinceMs] of this.#lingering) {
      if (nowMs - sinceMs < this.#options.lateFillWindowMs) return
      this.forget(orderId)
    }
  }
}
