/**
 * JavaScriptCore's collector log (`BUN_JSC_logGC=1` on stderr) read back as collection cycles, so bench:http can say
 * how much of its latency tail falls inside the serve process's own collections.
 *
 * A cycle starts with a `START` line and ends with a line holding `END]`; in between, each increment that paused the
 * mutator reports `p=<ms>ms`. Every line names its heap (`GC<0x…>`): the main thread's and each worker's are separate
 * heaps with separate cycles, so cycles are kept per heap. Lines carry no time of their own: the reader stamps each
 * with its arrival time, which trails the collector by the pipe and the reader's own event loop (well under 1 ms on
 * an idle reader, more on a busy one).
 */

export interface GcCycle {
  heap: string
  /** Arrival time of the START line and of the END line (ms, the reader's clock). */
  startMs: number
  endMs: number
  kind: 'eden' | 'full'
  /** The mutator's pauses in this cycle, summed. */
  pauseMs: number
  /** Heap size when the cycle started, and what it kept (the live heap, after a full collection). */
  heapKb: number
  heapKbAfter: number
}

const HEAP = /GC<(0x[0-9a-f]+)>/
const START = /START M (\d+)kb => (EdenCollection|FullCollection)/
const PAUSE = / p=([0-9.]+)ms/g
const AFTER = /=> (\d+)kb, p=/

/** Whether `text` is a line of the collector's log (a cycle's, or the bare `GC END!` it also prints). */
export function isCollectorLine(text: string): boolean {
  return HEAP.test(text) || text.startsWith('GC END!')
}

/** Turns stamped log lines into cycles; lines that are not the collector's are ignored. */
export class GcLogReader {
  readonly cycles: GcCycle[] = []
  readonly #open = new Map<string, GcCycle>()

  line(text: string, atMs: number): void {
    const heap = HEAP.exec(text)?.[1]
    if (heap === undefined) return
    const start = START.exec(text)
    if (start !== null) {
      const cycle: GcCycle = { heap, startMs: atMs, endMs: atMs, kind: start[2] === 'FullCollection' ? 'full' : 'eden', pauseMs: 0, heapKb: Number(start[1]), heapKbAfter: Number(start[1]) }
      this.#open.set(heap, cycle)
    }
    const cycle = this.#open.get(heap)
    if (cycle === undefined) return // the tail of a cycle that started before reading began
    for (const match of text.matchAll(PAUSE)) cycle.pauseMs += Number(match[1])
    if (text.includes('END]')) {
      const after = AFTER.exec(text)
      if (after !== null) cycle.heapKbAfter = Number(after[1])
      cycle.endMs = atMs
      this.#open.delete(heap)
      this.cycles.push(cycle)
    }
  }

  /** The heap that grew largest: the main thread's, in serve (its workers hold far less). Null before any cycle. */
  largestHeap(): string | null {
    let largest: GcCycle | null = null
    for (const cycle of this.cycles) if (largest === null || cycle.heapKb > largest.heapKb) largest = cycle
    return largest?.heap ?? null
  }
}

export interface GcOverlap {
  cycles: number
  pauseMs: number
  /**
   * Full collections among them, and how long cycles ran (start to end, summed): while one runs the collector marks
   * beside the mutator and takes slices of the event loop (the mutator gets ~60 % of it), so requests queue through
   * the whole cycle, not only its pauses. A full cycle's length grows with the live heap.
   */
  fullCycles: number
  cycleMs: number
  fullCycleMs: number
  /** The live heap the latest full collection in the window kept (KB), or null when none ran. */
  liveKbAfterFull: number | null
  /** Of the requests slower than the threshold, the share whose flight overlapped one of the cycles. */
  slowInGcShare: number
  slowCount: number
}

/**
 * The cycles of `heap` that ended inside [fromMs, toMs], and how many of the requests slower than `slowMs` were in
 * flight (sent before the cycle ended, answered after it started) during one of them.
 */
export function gcOverlap(cycles: readonly GcCycle[], heap: string | null, requests: readonly { sentMs: number; answeredMs: number }[], window: { fromMs: number; toMs: number; slowMs: number }): GcOverlap {
  const inWindow = cycles.filter((cycle) => cycle.heap === heap && cycle.endMs >= window.fromMs && cycle.startMs <= window.toMs)
  const fulls = inWindow.filter((cycle) => cycle.kind === 'full')
  const slow = requests.filter((request) => request.answeredMs - request.sentMs > window.slowMs)
  const inGc = slow.filter((request) => inWindow.some((cycle) => request.sentMs <= cycle.endMs && request.answeredMs >= cycle.startMs))
  return {
    cycles: inWindow.length,
    pauseMs: inWindow.reduce((sum, cycle) => sum + cycle.pauseMs, 0),
    fullCycles: fulls.length,
    cycleMs: inWindow.reduce((sum, cycle) => sum + (cycle.endMs - cycle.startMs), 0),
    fullCycleMs: fulls.reduce((sum, cycle) => sum + (cycle.endMs - cycle.startMs), 0),
    liveKbAfterFull: fulls.length === 0 ? null : fulls[fulls.length - 1]!.heapKbAfter,
    slowInGcShare: slow.length === 0 ? 0 : inGc.length / slow.length,
    slowCount: slow.length,
  }
}

/** The latency that marks a request as part of a bad round's tail, for slowTimeline. */
export const TIMELINE_SLOW_MS = 50

/**
 * One line placing a round's worst requests beside the collector: the span (ms from `fromMs`, the round's start) in
 * which the requests over TIMELINE_SLOW_MS were sent, and every cycle of any heap overlapping it (kind, heap, start
 * and length, heap size). A bad round whose span no cycle overlaps was held by something else.
 */
export function slowTimeline(requests: readonly { sentMs: number; answeredMs: number }[], cycles: readonly GcCycle[], fromMs: number): string {
  let firstMs = Number.POSITIVE_INFINITY
  let lastMs = Number.NEGATIVE_INFINITY
  let count = 0
  for (const request of requests) {
    if (request.answeredMs - request.sentMs <= TIMELINE_SLOW_MS) continue
    count++
    firstMs = Math.min(firstMs, request.sentMs)
    lastMs = Math.max(lastMs, request.answeredMs)
  }
  if (count === 0) return `requests over ${TIMELINE_SLOW_MS} ms: none`
  const at = (ms: number): string => `${Math.round(ms - fromMs)}`
  const overlapping = cycles
    .filter((cycle) => cycle.endMs >= firstMs && cycle.startMs <= lastMs)
    .map((cycle) => `${cycle.kind} ${cycle.heap} at ${at(cycle.startMs)} for ${Math.round(cycle.endMs - cycle.startMs)} ms (${Math.round(cycle.heapKb / 1024)} MB)`)
  return `requests over ${TIMELINE_SLOW_MS} ms: ${count}, sent ${at(firstMs)}–${at(lastMs)} ms into the round; cycles overlapping: ${overlapping.length === 0 ? 'none' : overlapping.join('; ')}`
}
