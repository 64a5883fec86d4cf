/**
 * Collector pacing: young-generation (eden) collections of the process's main heap, run by the gateway itself on a
 * short cadence while it is taking records, in place of the ones JavaScriptCore starts when its allocation limit is
 * reached.
 *
 * Why: JavaScriptCore sizes the young generation from the live heap (about as large again as what the last full
 * collection kept), so a gateway holding a few hundred MB of orders collects it only every second or so, and each
 * collection then has thousands of orders' new objects to mark. Measured under bench:http's half load (README,
 * Collector pacing): such a cycle marked beside the event loop for ~60 ms at 60 % mutator utilisation and ended in a
 * ~10 ms pause, and the requests queued behind both set the p99. A small collection every 50 ms has a few hundred
 * orders' objects to mark: a pause of ~2 ms, and the limit-driven cycles no longer come.
 *
 * A paced collection runs only when at least `edenAfterRecords` records were made durable since the last: an idle
 * gateway allocates little and is left to the collector's own schedule. Full collections stay the collector's own.
 * Settings: config `collector` (src/config/schema.ts, where the defaults are).
 */

import { edenGC } from 'bun:jsc'

export interface CollectorPacingSettings {
  /** How often the pacer looks (ms); 0: no pacing, the collector's own schedule only. */
  edenEveryMs: number
  /** Durable records since the last paced collection needed before the next one runs. */
  edenAfterRecords: number
}

export interface CollectorPacingStats {
  /** Paced collections run since start. */
  collections: number
  /** Their pauses (the event loop held for each call), summed, longest and last, in ms. */
  pauseMsTotal: number
  pauseMsMax: number
  pauseMsLast: number
}

export interface CollectorPacingDeps {
  /** The durable position now (a log's last LSN); a lower value than before starts the count again from it. */
  recordsNow(): number
  /** Runs one young-generation collection, synchronously. Default: bun:jsc edenGC. */
  collect?(): void
  /** A monotonic ms clock for the pauses. Default: performance.now. */
  nowMs?(): number
  /** Calls `tick` every `everyMs` until the returned function is called. Default: an unref'd setInterval. */
  repeat?(everyMs: number, tick: () => void): () => void
}

export class CollectorPacer {
  readonly stats: CollectorPacingStats = { collections: 0, pauseMsTotal: 0, pauseMsMax: 0, pauseMsLast: 0 }
  readonly #settings: CollectorPacingSettings
  readonly #recordsNow: () => number
  readonly #collect: () => void
  readonly #nowMs: () => number
  readonly #repeat: (everyMs: number, tick: () => void) => () => void
  #recordsAtLast: number
  #cancel: (() => void) | null = null

  constructor(settings: CollectorPacingSettings, deps: CollectorPacingDeps) {
    this.#settings = settings
    this.#recordsNow = deps.recordsNow
    this.#collect = deps.collect ?? edenGC
    this.#nowMs = deps.nowMs ?? (() => performance.now())
    this.#repeat = deps.repeat ?? repeatUnref
    this.#recordsAtLast = deps.recordsNow()
  }

  /** Whether the settings pace at all (edenEveryMs > 0). */
  get enabled(): boolean {
    return this.#settings.edenEveryMs > 0
  }

  /** Starts the cadence (nothing when disabled or already started). */
  start(): void {
    if (!this.enabled || this.#cancel !== null) return
    this.#cancel = this.#repeat(this.#settings.edenEveryMs, () => this.tick())
  }

  stop(): void {
    this.#cancel?.()
    this.#cancel = null
  }

  /** One look: collects when enough records were made durable since the last paced collection. */
  tick(): void {
    const records = this.#recordsNow()
    // A lower position is another log (an HA node swapped its gateway): counted from where that one stands.
    if (records < this.#recordsAtLast) this.#recordsAtLast = records
    if (records - this.#recordsAtLast < this.#settings.edenAfterRecords) return
    this.#recordsAtLast = records
    const startedMs = this.#nowMs()
    this.#collect()
    const pauseMs = this.#nowMs() - startedMs
    this.stats.collections++
    this.stats.pauseMsTotal += pauseMs
    this.stats.pauseMsLast = pauseMs
    if (pauseMs > this.stats.pauseMsMax) this.stats.pauseMsMax = pauseMs
  }
}

function repeatUnref(everyMs: number, tick: () => void): () => void {
  const timer = setInterval(tick, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
