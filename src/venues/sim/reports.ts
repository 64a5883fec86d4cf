/**
 * The sim venue's execution-report stream: every report travels through the Clock with a latency, and the report
 * faults (drop, duplicate, reorder, outage drop/hold) apply here. Without faults, delivery is in emission order.
 */

import type { Clock } from '../../domain/clock.ts'
import type { ExecutionReport } from '../adapter.ts'
import type { SimFaults, SimOutage } from './options.ts'
import type { Xoshiro128ss } from './prng.ts'

export interface ReportCounters {
  emitted: number
  delivered: number
  dropped: number
  duplicated: number
  reordered: number
  /** Deliveries postponed to the end of an outage (`reports: 'hold'`). */
  held: number
  /** Dropped because `reportsInFlightMax` reports were already on the way. */
  overflowed: number
}

export interface ReportStreamOptions {
  clock: Clock
  rng: Xoshiro128ss
  latency: () => number
  faults: () => SimFaults
  outageAt: (nowMs: number) => SimOutage | null
  inFlightMax: number
}

type Handler = (report: ExecutionReport) => void

export class ReportStream {
  readonly counters: ReportCounters = { emitted: 0, delivered: 0, dropped: 0, duplicated: 0, reordered: 0, held: 0, overflowed: 0 }
  readonly #options: ReportStreamOptions
  #handlers: Handler[] = []
  #inFlight = 0
  /** Due time of the last in-order report: later ones are never due earlier, so delivery keeps emission order. */
  #lastDueMs = 0
  /**
   * Reports that arrived during a `hold` outage, in arrival order (still in flight, so bounded by inFlightMax). They go
   * out before any report arriving after them: one due at the outage's very end, scheduled before they were held,
   * would otherwise overtake them.
   */
  #held: ExecutionReport[] = []
  #releaseScheduled = false

  constructor(options: ReportStreamOptions) {
    this.#options = options
  }

  /** Reports on their way now: sent and not yet arrived (a held report is on its way again until the outage ends). */
  get inFlight(): number {
    return this.#inFlight
  }

  subscribe(handler: Handler): () => void {
    this.#handlers = [...this.#handlers, handler]
    return () => {
      this.#handlers = this.#handlers.filter((candidate) => candidate !== handler)
    }
  }

  emit(reports: readonly ExecutionReport[]): void {
    for (const report of reports) this.#emitOne(report)
  }

  #emitOne(report: ExecutionReport): void {
    const { rng, clock } = this.#options
    const faults = this.#options.faults()
    this.counters.emitted++
    // Every report draws the same number of values whatever happens to it, so the stream stays aligned.
    const drop = rng.chance(faults.dropReportProbability)
    const duplicate = rng.chance(faults.duplicateReportProbability)
    const reorder = rng.chance(faults.reorderReportProbability)
    const reorderDelayMs = rng.nextInt(1, faults.reorderDelayMsMax)
    const duplicateDelayMs = rng.nextInt(1, faults.reorderDelayMsMax)
    const nowMs = clock.nowMs()
    const inOrderDueMs = Math.max(nowMs + this.#options.latency(), this.#lastDueMs)
    if (drop) {
      this.counters.dropped++
      return
    }
    let dueMs = inOrderDueMs
    if (reorder) {
      this.counters.reordered++
      dueMs += reorderDelayMs
    } else {
      this.#lastDueMs = dueMs
    }
    this.#send(report, dueMs - nowMs)
    if (duplicate) {
      this.counters.duplicated++
      this.#send({ ...report }, dueMs - nowMs + duplicateDelayMs)
    }
  }

  #send(report: ExecutionReport, delayMs: number): void {
    if (this.#inFlight >= this.#options.inFlightMax) {
      this.counters.overflowed++
      return
    }
    this.#inFlight++
    this.#options.clock.after(delayMs, this.#arriveBound, report)
  }

  /** #arrive for the clock, made once: the report travels as the timer's argument, with no function made per report. */
  readonly #arriveBound = (report: ExecutionReport): void => this.#arrive(report)

  #arrive(report: ExecutionReport): void {
    this.#inFlight--
    const outage = this.#options.outageAt(this.#options.clock.nowMs())
    if (outage === null) {
      this.#release()
      this.#deliver(report)
    } else if (outage.reports === 'hold') {
      this.counters.held++
      this.#hold(report, outage)
    } else {
      this.counters.dropped++
    }
  }

  #hold(report: ExecutionReport, outage: SimOutage): void {
    if (this.#inFlight >= this.#options.inFlightMax) {
      this.counters.overflowed++
      return
    }
    this.#inFlight++
    this.#held.push(report)
    if (this.#releaseScheduled) return
    this.#releaseScheduled = true
    this.#options.clock.after(outage.endMs - this.#options.clock.nowMs(), this.#releaseBound, undefined)
  }

  /** At an outage's end: the held reports go out in order (held again, or lost, if another outage has begun). */
  readonly #releaseBound = (): void => {
    this.#releaseScheduled = false
    const outage = this.#options.outageAt(this.#options.clock.nowMs())
    if (outage === null) return this.#release()
    const held = this.#held
    this.#held = []
    this.#inFlight -= held.length
    for (const report of held) {
      if (outage.reports === 'hold') {
        this.counters.held++
        this.#hold(report, outage)
      } else this.counters.dropped++
    }
  }

  /** Delivers every held report, in the order they arrived. */
  #release(): void {
    if (this.#held.length === 0) return
    const held = this.#held
    this.#held = []
    this.#inFlight -= held.length
    for (const report of held) this.#deliver(report)
  }

  #deliver(report: ExecutionReport): void {
    this.counters.delivered++
    for (const handler of this.#handlers) handler(report)
  }
}
