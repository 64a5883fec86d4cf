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
 *
 * First send → venue ack times the venue: a place the executor answered retryable on the venue's behalf, the venue
 * never called (held at the call by a kill switch or a mode change, or by the HA send gate: call-holds.ts
 * heldBeforeVenue), did not start it. Its clock starts again at the next send (the switch's RESUME, the standby back in
 * sync); timed from the held send, a flatten's close held by CANCEL_ONLY for ten minutes was a venue ack of ten minutes.
 * Accept → first send still times the first send record.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import { heldBeforeVenue } from '../runtime/call-holds.ts'
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

/** A timed order's first send, held before the venue: the next send starts its ack clock (see the header). */
const NOT_CALLED = -1

export class OrderTimings {
  /**
   * Timed orders' accept times, and their first sends once made: two maps of numbers, not an object per order. A first
   * send held before the venue is NOT_CALLED until the next send.
   */
  readonly #acceptedAtMs = new Map<string, number>()
  readonly #sentAtMs = new Map<string, number>()
  /** Orders whose venue said canceled or expired, by when it first did; in insertion order, so oldest first. */
  readonly #lingering = new Map<string, number>()
  /**
   * The first of #lingering (in its order) and its time, while known: expiry looks at it on every event, and finding it
   * by iterating the Map made an iterator object per event. Null: unknown (or none), iterate to find it.
   */
  #firstLingering: string | null = null
  #firstLingeringSinceMs = 0
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
        // A repeat acceptance of a timed order (none is recorded) would start it again, as the entry it replaced did.
        if (this.#acceptedAtMs.size < this.#options.trackedOrdersMax) {
          this.#acceptedAtMs.set(event.orderId, event.atMs)
          this.#sentAtMs.delete(event.orderId)
        }
        return
      case 'order.send_requested': {
        const acceptedAtMs = this.#acceptedAtMs.get(event.orderId)
        if (acceptedAtMs === undefined) return
        const sentAtMs = this.#sentAtMs.get(event.orderId)
        if (sentAtMs === undefined) this.#histograms.acceptToSent.observe((event.atMs - acceptedAtMs) / 1000)
        if (sentAtMs === undefined || sentAtMs === NOT_CALLED) this.#sentAtMs.set(event.orderId, event.atMs)
        return
      }
      case 'order.send_retry':
        // The venue was not called: the send it answers for does not start the venue's ack clock (see the header).
        if (event.action === 'place' && this.#sentAtMs.has(event.orderId) && heldBeforeVenue(event.venueReason)) this.#sentAtMs.set(event.orderId, NOT_CALLED)
        return
      case 'order.send_acked': {
        const sentAtMs = this.#sentAtMs.get(event.orderId)
        if (sentAtMs !== undefined && sentAtMs !== NOT_CALLED) this.#histograms.sentToAck.observe((event.atMs - sentAtMs) / 1000)
        return
      }
      case 'order.fill': {
        const acceptedAtMs = this.#acceptedAtMs.get(event.orderId)
        if (acceptedAtMs !== undefined) this.#histograms.acceptToFill.observe((event.atMs - acceptedAtMs) / 1000)
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
    if (!this.#acceptedAtMs.has(orderId) || this.#lingering.has(orderId)) return
    if (this.#lingering.size === 0) {
      this.#firstLingering = orderId
      this.#firstLingeringSinceMs = atMs
    }
    this.#lingering.set(orderId, atMs)
  }

  private forget(orderId: string): void {
    this.#acceptedAtMs.delete(orderId)
    this.#sentAtMs.delete(orderId)
    if (this.#lingering.delete(orderId) && orderId === this.#firstLingering) this.#firstLingering = null
  }

  /** Drops the entries whose late-fill window ended before `nowMs`, oldest first. */
  private expireLingering(nowMs: number): void {
    if (this.#firstLingering !== null && nowMs - this.#firstLingeringSinceMs < this.#options.lateFillWindowMs) return
    if (this.#lingering.size === 0) return
    for (const [orderId, sinceMs] of this.#lingering) {
      if (nowMs - sinceMs < this.#options.lateFillWindowMs) {
        this.#firstLingering = orderId
        this.#firstLingeringSinceMs = sinceMs
        return
      }
      this.forget(orderId)
    }
  }
}
