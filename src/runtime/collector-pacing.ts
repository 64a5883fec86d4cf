/**
 * Collector pacing: collections of the process's main heap run by the gateway itself, at moments it picks, in place of
 * some of those JavaScriptCore starts on its own.
 *
 * Full collections in a lull (on by default). One over a few hundred MB live holds the event loop for 200–300 ms, and
 * JavaScriptCore runs one when the heap has about doubled since its last, whatever the gateway is doing. So in a lull
 * — for `fullWhenIdleMs` no record made durable and no API request (under /v1) begun, and nothing busy (a snapshot
 * being taken, an HA node changing role) — once the heap has grown `fullAfterGrowthPct` % (the collector's figure
 * after its last cycle, heapUsedBytes, against the lowest seen since the pacer's last full collection, or its
 * first reading: a drop is a full collection of the collector's own), the pacer runs one, while nothing waits on the
 * loop — the way low-latency trading systems collect in quiet moments. Under traffic with no lull, the collector's
 * own full collections still come.
 *
 * Young-generation collections every `edenEveryMs` (off by default). JavaScriptCore sizes the young generation from
 * the live heap, so a gateway holding a few hundred MB of orders collects it only every second or so, and each such
 * cycle has thousands of orders' new objects to mark: under bench:http's half load one marked beside the event loop
 * for ~60 ms at 60 % mutator utilisation and ended in a ~10 ms pause. A paced collection every 50 ms has a few hundred
 * orders' to mark, ~2 ms. It runs only once `edenAfterRecords` records were made durable since the last, and paced
 * collections take at most PACED_LOOP_SHARE_MAX of the loop: after one that paused p ms, the next waits p × (1/share −
 * 1) ms. Why it is off by default: each paced collection keeps whatever is in flight at that moment, so the heap nears
 * the collector's own full collection sooner, and a synchronous call made while that one runs beside the program waits
 * for it to end — the loop stopped for 100–300 ms where the collector alone would have slowed it (README, Collector
 * pacing, for the figures both ways). Settings: config `collector` (src/config/schema.ts, where the defaults are).
 */

import { edenGC, fullGC } from 'bun:jsc'

/** The largest share of the event loop paced young-generation collections may take. */
export const PACED_LOOP_SHARE_MAX = 0.1

/** How often lulls are looked for when young-generation collections are not paced (edenEveryMs 0). */
export const LULL_LOOK_EVERY_MS = 100

export interface CollectorPacingSettings {
  /** How often the pacer looks to run a young-generation collection (ms); 0: never, the collector's own schedule. */
  edenEveryMs: number
  /** Durable records since the last paced collection needed before the next one runs. */
  edenAfterRecords: number
  /** How long no record must have been made durable and no activity seen before a full collection may run (ms); 0: never one of ours. */
  fullWhenIdleMs: number
  /** The heap's growth (%) over its lowest figure since the pacer's last full collection that makes one worth running in a lull. */
  fullAfterGrowthPct: number
}

export interface CollectorPacingStats {
  /** Paced collections run since start. */
  collections: number
  /** Their pauses (the event loop held for each call), summed, longest and last, in ms. */
  pauseMsTotal: number
  pauseMsMax: number
  pauseMsLast: number
  /** Full collections run in a lull since start, and their pauses, summed and longest (ms). */
  fullCollections: number
  fullPauseMsTotal: number
  fullPauseMsMax: number
}

/** The figures of a pacer that has run nothing (each call a new object). */
export function idleCollectorPacingStats(): CollectorPacingStats {
  return { collections: 0, pauseMsTotal: 0, pauseMsMax: 0, pauseMsLast: 0, fullCollections: 0, fullPauseMsTotal: 0, fullPauseMsMax: 0 }
}

export interface CollectorPacingDeps {
  /** The durable position now (a log's last LSN); a lower value than before starts the count again from it. */
  recordsNow(): number
  /** Anything else that moves while the gateway works (requests begun): any change ends a lull. Default: 0. */
  activityNow?(): number
  /** Whether something is under way that a full collection must not stop (a snapshot, a role change). Default: false. */
  busy?(): boolean
  /** Runs one young-generation collection, synchronously. Default: bun:jsc edenGC. */
  collect?(): void
  /** Runs one full collection, synchronously. Default: bun:jsc fullGC. */
  collectFull?(): void
  /** The heap's size at the end of the collector's last cycle, in bytes (before its first: what was allocated). Default: heapUsedBytes. */
  heapBytes?(): number
  /** A monotonic ms clock for the pauses. Default: performance.now. */
  nowMs?(): number
  /** Calls `tick` every `everyMs` until the returned function is called. Default: an unref'd setInterval. */
  repeat?(everyMs: number, tick: () => void): () => void
}

export class CollectorPacer {
  readonly stats: CollectorPacingStats = idleCollectorPacingStats()
  readonly #settings: CollectorPacingSettings
  readonly #recordsNow: () => number
  readonly #activityNow: () => number
  readonly #busy: () => boolean
  readonly #collect: () => void
  readonly #collectFull: () => void
  readonly #heapBytes: () => number
  readonly #nowMs: () => number
  readonly #repeat: (everyMs: number, tick: () => void) => () => void
  #recordsAtLast: number
  /** The position and activity at the last tick, and when either last moved: a lull is time since then. */
  #recordsSeen: number
  #activitySeen: number
  #movedAtMs: number
  /** No paced young-generation collection before this (the loop-share bound). */
  #edenNotBeforeMs = Number.NEGATIVE_INFINITY
  /** The heap's size after the pacer's last full collection, or the lowest read since (0: not read yet). */
  #heapBytesAtFull = 0
  #cancel: (() => void) | null = null

  constructor(settings: CollectorPacingSettings, deps: CollectorPacingDeps) {
    this.#settings = settings
    this.#recordsNow = deps.recordsNow
    this.#activityNow = deps.activityNow ?? (() => 0)
    this.#busy = deps.busy ?? (() => false)
    this.#collect = deps.collect ?? edenGC
    this.#collectFull = deps.collectFull ?? fullGC
    this.#heapBytes = deps.heapBytes ?? heapUsedBytes
    this.#nowMs = deps.nowMs ?? (() => performance.now())
    this.#repeat = deps.repeat ?? repeatUnref
    this.#recordsAtLast = deps.recordsNow()
    this.#recordsSeen = this.#recordsAtLast
    // Not read here: its source may be made after the pacer (serve's HTTP service). The first tick starts the lull clock.
    this.#activitySeen = Number.NaN
    this.#movedAtMs = this.#nowMs()
  }

  /** Whether the settings ask for anything (young-generation pacing, or full collections in a lull). */
  get enabled(): boolean {
    return this.#settings.edenEveryMs > 0 || this.#settings.fullWhenIdleMs > 0
  }

  /** Ticks every edenEveryMs, or every LULL_LOOK_EVERY_MS when only lulls are watched (nothing when disabled or started). */
  start(): void {
    if (!this.enabled || this.#cancel !== null) return
    this.#cancel = this.#repeat(this.#settings.edenEveryMs > 0 ? this.#settings.edenEveryMs : LULL_LOOK_EVERY_MS, () => this.tick())
  }

  stop(): void {
    this.#cancel?.()
    this.#cancel = null
  }

  /**
   * One look: a young-generation collection when enough records were made durable since the last paced one; else, in
   * a lull, a full collection when the heap has grown enough since the last.
   */
  tick(): void {
    const records = this.#recordsNow()
    const nowMs = this.#nowMs()
    // A lower position is another log (an HA node swapped its gateway): counted from where that one stands.
    if (records < this.#recordsAtLast) this.#recordsAtLast = records
    const activity = this.#activityNow()
    if (records !== this.#recordsSeen || activity !== this.#activitySeen) {
      this.#recordsSeen = records
      this.#activitySeen = activity
      this.#movedAtMs = nowMs
    }
    const heapBytes = this.#settings.fullWhenIdleMs > 0 ? this.readHeap() : 0
    if (this.#settings.edenEveryMs > 0 && records - this.#recordsAtLast >= this.#settings.edenAfterRecords) {
      if (nowMs < this.#edenNotBeforeMs) return
      this.#recordsAtLast = records
      this.#collect()
      const pauseMs = this.#nowMs() - nowMs
      this.#edenNotBeforeMs = nowMs + pauseMs / PACED_LOOP_SHARE_MAX
      this.stats.collections++
      this.stats.pauseMsTotal += pauseMs
      this.stats.pauseMsLast = pauseMs
      if (pauseMs > this.stats.pauseMsMax) this.stats.pauseMsMax = pauseMs
      return
    }
    if (this.#settings.fullWhenIdleMs > 0 && nowMs - this.#movedAtMs >= this.#settings.fullWhenIdleMs && !this.#busy()) this.fullIfGrown(nowMs, heapBytes)
  }

  /**
   * The heap's size at the end of the collector's last cycle. The base growth is measured from is the first reading
   * above 0, or any lower one since: only a full collection makes the figure drop.
   */
  private readHeap(): number {
    const heapBytes = this.#heapBytes()
    if (heapBytes > 0 && (this.#heapBytesAtFull === 0 || heapBytes < this.#heapBytesAtFull)) this.#heapBytesAtFull = heapBytes
    return heapBytes
  }

  private fullIfGrown(nowMs: number, heapBytes: number): void {
    if (this.#heapBytesAtFull === 0 || heapBytes < this.#heapBytesAtFull * (1 + this.#settings.fullAfterGrowthPct / 100)) return
    this.#collectFull()
    const pauseMs = this.#nowMs() - nowMs
    this.#heapBytesAtFull = this.#heapBytes()
    this.stats.fullCollections++
    this.stats.fullPauseMsTotal += pauseMs
    if (pauseMs > this.stats.fullPauseMsMax) this.stats.fullPauseMsMax = pauseMs
  }
}

/**
 * The heap's size at the end of the collector's last cycle, young or full (bytes): what bun:jsc heapSize gives then,
 * read from the collector's counters in ~10 µs, where heapSize walks the heap — ~1.3 ms at 580 MB, and read every tick
 * it took ~6 % of bench:http's main thread in one profile, a loop stall every 100 ms under load. Before the first
 * cycle it counts what was allocated. Bun's process.memoryUsage reports it (older Bun builds gave the size after the
 * last young cycle only); specs/runtime/collector-pacing.test.ts checks it against heapSize after a full collection.
 */
export function heapUsedBytes(): number {
  return process.memoryUsage().heapUsed
}

function repeatUnref(everyMs: number, tick: () => void): () => void {
  const timer = setInterval(tick, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
