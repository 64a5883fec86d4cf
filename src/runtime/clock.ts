/**
 * The two clocks the runtime can own: `WallClock` for production and `SimClock` for tests and deterministic
 * simulation. Both implement the domain `Clock`; nothing else in egress reads time.
 */

import type { Clock } from '../domain/clock.ts'

/**
 * Date.now that never goes backwards, and never stands still: every decision stamps its events with this time, and the
 * kernel reads event times as ordered (retirement waits for an order's own last event time, src/kernel/retention.ts,
 * and for the grace since an end), while the runtime measures durations with it (bootstrap's converge wait, reconcile
 * backoffs, the sweep's quiet interval).
 *
 * It follows the wall clock while that is ahead of the last time it gave. When the wall clock is behind (stepped back
 * by NTP or an operator, or behind the log's latest event after a restart: `notBefore`), it runs on from the last time
 * it gave at BEHIND_RATE of the monotonic clock (performance.now), so the wall clock catches up: a step back of S is
 * absorbed in S / (1 − BEHIND_RATE), during which a duration reads 10 % short (a timeout takes 11 % longer). A time
 * that repeated until the wall clock caught up froze every timeout meanwhile (a restart on a clock 10 minutes behind
 * its log held intake closed for 10 minutes plus the converge wait: review of f09d585); one that ran at full rate
 * would stay S ahead of the wall clock for good, and each restart would carry that into the log again.
 */
export const BEHIND_RATE = 0.9

export class MonotonicNow {
  private readonly wallMs: () => number
  private readonly elapsedMs: () => number
  /** The last time given, and the monotonic reading then: time runs on from there while the wall clock is behind. */
  private anchorMs = Number.NEGATIVE_INFINITY
  private anchorElapsedMs = 0

  constructor(sources: { wallMs?: () => number; elapsedMs?: () => number } = {}) {
    this.wallMs = sources.wallMs ?? (() => Date.now())
    this.elapsedMs = sources.elapsedMs ?? (() => performance.now())
  }

  nowMs(): number {
    const wall = this.wallMs()
    const elapsed = this.elapsedMs()
    const running = this.anchorMs + Math.floor((elapsed - this.anchorElapsedMs) * BEHIND_RATE)
    if (wall >= running) {
      this.anchorMs = wall
      this.anchorElapsedMs = elapsed
      return wall
    }
    return running
  }

  /** Gives nothing before `ms` from now on (a restart's floor: the latest time its log holds), running on from it. */
  notBefore(ms: number): void {
    if (ms <= this.nowMs()) return
    this.anchorMs = ms
    this.anchorElapsedMs = this.elapsedMs()
  }
}

/** Real time: Date.now (never backwards, MonotonicNow) and setTimeout. */
export class WallClock implements Clock {
  private readonly now = new MonotonicNow()

  nowMs(): number {
    return this.now.nowMs()
  }

  notBefore(ms: number): void {
    this.now.notBefore(ms)
  }

  schedule(delayMs: number, callback: () => void): () => void {
    const handle = setTimeout(callback, Math.max(0, delayMs))
    return function cancelWallTimer(): void {
      clearTimeout(handle)
    }
  }

  after<A>(delayMs: number, callback: (argument: A) => void, argument: A): void {
    setTimeout(callback, Math.max(0, delayMs), argument)
  }
}

export interface SimClockOptions {
  /** Milliseconds since the Unix epoch at which simulated time starts. */
  startMs: number
  /** Bound on callbacks waiting in the queue; scheduling beyond it is a bug (a runaway timer) and throws. */
  queueMax?: number
}

export interface RunResult {
  /** Callbacks run. */
  steps: number
  /** True when the queue was empty at the end (false: the step limit stopped the run). */
  idle: boolean
}

interface Timer {
  dueMs: number
  sequence: number
  callback: (argument: unknown) => void
  /** What `callback` is called with (`after`); undefined for `schedule`'s. */
  argument: unknown
  /** Canceled timers stay in the heap until they reach the top (lazy deletion keeps cancel O(1)). */
  canceled: boolean
}

export const SIM_CLOCK_QUEUE_MAX_DEFAULT = 1_000_000
const COMPACT_SLACK = 1024

/**
 * Deterministic simulated time. Time moves only when the driver calls `advance`/`runUntilIdle` (or their async
 * twins); callbacks run ordered by due time, then by the order they were scheduled, so the same schedule always runs
 * the same way. A callback that throws propagates out of the driving call: in a simulation that is a bug to see.
 *
 * The sync drivers run callbacks back to back, so promise continuations triggered by a callback run only after the
 * driver returns. The async drivers (`advanceAsync`, `runUntilIdleAsync`) yield to the event loop after every
 * callback, so continuations run "at" the simulated instant that resolved them and can schedule follow-up work in
 * order — that is what a kernel+venue simulation wants.
 */
export class SimClock implements Clock {
  readonly queueMax: number
  #nowMs: number
  #sequence = 0
  /** Binary min-heap on (dueMs, sequence). */
  #heap: Timer[] = []
  #liveCount = 0

  constructor(options: SimClockOptions) {
    if (!Number.isSafeInteger(options.startMs) || options.startMs < 0) {
      throw new RangeError(`startMs must be a non-negative integer, got ${options.startMs}`)
    }
    const queueMax = options.queueMax ?? SIM_CLOCK_QUEUE_MAX_DEFAULT
    if (!Number.isSafeInteger(queueMax) || queueMax < 1) {
      throw new RangeError(`queueMax must be a positive integer, got ${queueMax}`)
    }
    this.#nowMs = options.startMs
    this.queueMax = queueMax
  }

  nowMs(): number {
    return this.#nowMs
  }

  schedule(delayMs: number, callback: () => void): () => void {
    const timer = this.#add(delayMs, callback, undefined)
    return () => {
      if (timer.canceled) return
      timer.canceled = true
      this.#liveCount--
    }
  }

  after<A>(delayMs: number, callback: (argument: A) => void, argument: A): void {
    this.#add(delayMs, callback as (argument: unknown) => void, argument)
  }

  #add(delayMs: number, callback: (argument: unknown) => void, argument: unknown): Timer {
    if (!Number.isFinite(delayMs)) throw new RangeError(`delayMs must be finite, got ${delayMs}`)
    if (this.#liveCount >= this.queueMax) {
      throw new RangeError(`SimClock queue is full (queueMax ${this.queueMax}): a timer is running away`)
    }
    // Whole milliseconds keep the order of events independent of float rounding.
    const dueMs = this.#nowMs + Math.max(0, Math.ceil(delayMs))
    const timer: Timer = { dueMs, sequence: this.#sequence++, callback, argument, canceled: false }
    this.#push(timer)
    this.#liveCount++
    if (this.#heap.length > 2 * this.#liveCount + COMPACT_SLACK) this.#compact()
    return timer
  }

  /** Due time of the earliest pending callback, or null when nothing is scheduled. */
  nextDueMs(): number | null {
    return this.#head()?.dueMs ?? null
  }

  /** Callbacks waiting (canceled ones excluded). */
  pendingCount(): number {
    return this.#liveCount
  }

  /** Runs the earliest callback if it is due at or before `untilMs`, moving time to its due time. */
  runNext(untilMs = Number.POSITIVE_INFINITY): boolean {
    const next = this.#head()
    if (next === undefined || next.dueMs > untilMs) return false
    this.#pop()
    next.canceled = true // a cancel after it ran is a no-op
    this.#liveCount--
    this.#nowMs = Math.max(this.#nowMs, next.dueMs)
    next.callback(next.argument)
    return true
  }

  /** Moves time forward by `ms`, running every callback that falls due on the way (including ones they schedule). */
  advance(ms: number): number {
    const targetMs = this.#target(ms)
    let steps = 0
    while (this.runNext(targetMs)) steps++
    this.#nowMs = Math.max(this.#nowMs, targetMs)
    return steps
  }

  /** Runs callbacks, jumping time to each, until none is left or `limitSteps` have run. */
  runUntilIdle(limitSteps: number): RunResult {
    assertLimit(limitSteps)
    let steps = 0
    while (steps < limitSteps && this.runNext()) steps++
    return { steps, idle: this.#liveCount === 0 }
  }

  /** Like `advance`, yielding to the event loop after each callback so promise continuations run in sim order. */
  async advanceAsync(ms: number): Promise<number> {
    const targetMs = this.#target(ms)
    let steps = 0
    await yieldToEventLoop()
    while (this.runNext(targetMs)) {
      steps++
      await yieldToEventLoop()
    }
    this.#nowMs = Math.max(this.#nowMs, targetMs)
    return steps
  }

  /** Like `runUntilIdle`, yielding to the event loop after each callback. */
  async runUntilIdleAsync(limitSteps: number): Promise<RunResult> {
    assertLimit(limitSteps)
    let steps = 0
    await yieldToEventLoop()
    while (steps < limitSteps && this.runNext()) {
      steps++
      await yieldToEventLoop()
    }
    return { steps, idle: this.#liveCount === 0 }
  }

  #target(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance needs a finite ms ≥ 0, got ${ms}`)
    return this.#nowMs + Math.ceil(ms)
  }

  #push(timer: Timer): void {
    const heap = this.#heap
    heap.push(timer)
    this.#siftUp(heap.length - 1)
  }

  #pop(): void {
    const heap = this.#heap
    const last = heap.pop()
    if (last === undefined || heap.length === 0) return
    heap[0] = last
    this.#siftDown(0)
  }

  /** Drops canceled timers that have not reached the top, so the heap stays within a constant factor of the bound. */
  #compact(): void {
    const live = this.#heap.filter((timer) => !timer.canceled)
    this.#heap = []
    for (const timer of live) this.#push(timer)
  }

  /** The earliest live timer, discarding canceled ones on the way. */
  #head(): Timer | undefined {
    let head = this.#heap[0]
    while (head !== undefined && head.canceled) {
      this.#pop()
      head = this.#heap[0]
    }
    return head
  }

  #siftUp(start: number): void {
    const heap = this.#heap
    let index = start
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(at(heap, index), at(heap, parent))) return
      swap(heap, index, parent)
      index = parent
    }
  }

  #siftDown(start: number): void {
    const heap = this.#heap
    let index = start
    for (;;) {
      const left = 2 * index + 1
      const right = left + 1
      let smallest = index
      if (left < heap.length && before(at(heap, left), at(heap, smallest))) smallest = left
      if (right < heap.length && before(at(heap, right), at(heap, smallest))) smallest = right
      if (smallest === index) return
      swap(heap, index, smallest)
      index = smallest
    }
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.sequence < b.sequence)
}

function at(heap: Timer[], index: number): Timer {
  const timer = heap[index]
  if (timer === undefined) throw new Error(`SimClock heap index ${index} out of range ${heap.length}`)
  return timer
}

function swap(heap: Timer[], i: number, j: number): void {
  const a = at(heap, i)
  heap[i] = at(heap, j)
  heap[j] = a
}

function assertLimit(limitSteps: number): void {
  if (!Number.isSafeInteger(limitSteps) || limitSteps < 0) {
    throw new RangeError(`limitSteps must be a non-negative integer, got ${limitSteps}`)
  }
}

/** setImmediate runs after the microtask queue drains, so every promise continuation queued so far has run. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
