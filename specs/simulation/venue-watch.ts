/**
 * What passed between egress and the venue, seen from the venue's side (test instrumentation; the venue outlives
 * every gateway of a run):
 * - which execution reports egress could have seen: those delivered while a gateway was up. A report dropped by a
 *   fault, or delivered while egress was down (between a crash and the restart), is lost to egress; the end-of-run
 *   checks use this to tell "egress missed news it never received" from "egress mishandled news it got";
 * - each order's last reconcile query (status and trades) and whether the venue answered it, which attributes Lane0 delays to the
 *   executor's reconcile bookkeeping (see known-issues.ts).
 */

/** A reconcile query about one order: its status and trades, asked at the same instant. */
export interface StatusQuery {
  askedAtMs: number
  /** When the last answer came back (null while any is in flight), and whether every one was an answer at all. */
  answeredAtMs: number | null
  ok: boolean
  pending: number
}

import { orderIdFromClientId } from '../../src/domain/orders.ts'
import type { Clock } from '../../src/domain/clock.ts'
import type { VenueOutcome } from '../../src/venues/adapter.ts'
import type { SimVenue } from '../../src/venues/sim/index.ts'

const QUERIES_KEPT = 8

export class VenueWatch {
  /** Whether a gateway is subscribed and running (false from a crash until the restart subscribes again). */
  up = true
  deliveredWhileDown = 0
  readonly #execIds = new Set<string>()
  readonly #kinds = new Map<string, Set<string>>()
  /** The last few reconcile queries per order, oldest first. */
  readonly #queries = new Map<string, StatusQuery[]>()
  #unsubscribe: (() => void) | null = null

  /** Starts listening to the venue's report stream (once per run: the venue outlives every gateway). */
  listen(venue: SimVenue, clock: Clock): void {
    this.close()
    // The executor asks for an order's status and its trades together; either one unanswered holds the order back.
    const watchQuery = <T>(clientOrderId: string | undefined, call: () => Promise<VenueOutcome<T>>): Promise<VenueOutcome<T>> => {
      const orderId = clientOrderId === undefined ? null : orderIdFromClientId(clientOrderId)
      if (orderId === null) return call()
      const nowMs = clock.nowMs()
      const queries = this.#queries.get(orderId) ?? []
      let query = queries.at(-1)
      if (query?.askedAtMs !== nowMs) {
        query = { askedAtMs: nowMs, answeredAtMs: null, ok: true, pending: 0 }
        queries.push(query)
        if (queries.length > QUERIES_KEPT) queries.shift()
        this.#queries.set(orderId, queries)
      }
      const current = query
      current.pending++
      return call().then((outcome) => {
        current.pending--
        if (current.pending === 0) current.answeredAtMs = clock.nowMs()
        current.ok = current.ok && outcome.kind === 'ok'
        return outcome
      })
    }
    const orderStatus = venue.orderStatus.bind(venue)
    const trades = venue.trades.bind(venue)
    venue.orderStatus = (clientOrderId) => watchQuery(clientOrderId, () => orderStatus(clientOrderId))
    venue.trades = (options) => watchQuery(options.clientOrderId, () => trades(options))
    this.#unsubscribe = venue.onReport((report) => {
      if (!this.up) {
        this.deliveredWhileDown++
        return
      }
      this.#execIds.add(report.execId)
      for (const clientId of [report.clientOrderId, report.origClientOrderId]) {
        const orderId = clientId === undefined ? null : orderIdFromClientId(clientId)
        if (orderId === null) continue
        const kinds = this.#kinds.get(orderId) ?? new Set<string>()
        kinds.add(report.kind)
        this.#kinds.set(orderId, kinds)
      }
    })
  }

  /** Whether the report with this execution id reached a running egress. */
  delivered(execId: string): boolean {
    return this.#execIds.has(execId)
  }

  /** Whether a report of this kind (`canceled`, `expired`, …) about the order reached a running egress. */
  deliveredKind(orderId: string, kind: string): boolean {
    return this.#kinds.get(orderId)?.has(kind) ?? false
  }

  /** The last few reconcile queries egress made about the order, oldest first. */
  statusQueries(orderId: string): readonly StatusQuery[] {
    return this.#queries.get(orderId) ?? []
  }

  close(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
  }
}
