/**
 * The log lines the JSONL client writes about venue input it refuses (reasons.ts JsonlLogCode), bounded. Every such
 * line was written, one per refused line: a broken or hostile venue sending invalid lines as fast as TCP carries them
 * filled the gateway's log and its disk (nothing grew in memory, so no other bound caught it). Now the first
 * INPUT_LOG_LINES_MAX lines of a window of INPUT_LOG_WINDOW_MS are written in full; the rest are counted by code, and
 * one line says how many of each were not written, when the window ends (or the client closes). Nothing is lost from
 * the count: the lines written plus the counts said are every refusal.
 */

import type { JsonlLogCode } from './reasons.ts'

/** The window over which refusals are logged in full up to INPUT_LOG_LINES_MAX. */
export const INPUT_LOG_WINDOW_MS = 10_000
/** Refusal lines written in full per window at most; the rest are counted into one summary line. */
export const INPUT_LOG_LINES_MAX = 20
/** Leads the summary line of the refusals not written in full. */
export const INPUT_LOG_SUPPRESSED_CODE = 'VENUE_LOG_SUPPRESSED'

export type JsonlLogCodeValue = (typeof JsonlLogCode)[keyof typeof JsonlLogCode]

export interface InputLogOptions {
  log: (line: string) => void
  windowMs: number
  linesMax: number
  /** A monotonic clock (performance.now in the client). */
  nowMs: () => number
}

export class InputLog {
  private readonly options: InputLogOptions
  private windowStartMs = Number.NEGATIVE_INFINITY
  private linesWritten = 0
  /** Refusals not written in this window, by code: at most one entry per JsonlLogCode. */
  private readonly suppressed = new Map<JsonlLogCodeValue, number>()
  /** Writes the summary when the window ends; set while `suppressed` holds anything. */
  private timer: ReturnType<typeof setTimeout> | null = null

  constructor(options: InputLogOptions) {
    this.options = options
  }

  /**
   * A refusal led by `code`: `text` is the whole line (it starts with the code). `refusals` is how many lines of input
   * it stands for (a chunk's lines that were not UTF-8 are said in one line).
   */
  line(code: JsonlLogCodeValue, text: string, refusals = 1): void {
    const nowMs = this.options.nowMs()
    if (nowMs - this.windowStartMs >= this.options.windowMs) {
      this.flush()
      this.windowStartMs = nowMs
      this.linesWritten = 0
    }
    if (this.linesWritten < this.options.linesMax) {
      this.linesWritten++
      return this.options.log(text)
    }
    this.suppressed.set(code, (this.suppressed.get(code) ?? 0) + refusals)
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.windowStartMs + this.options.windowMs - nowMs))
      this.timer.unref()
    }
  }

  /** Writes the summary of the refusals not written in full, if any (at a window's end, and when the client closes). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (this.suppressed.size === 0) return
    const counts = [...this.suppressed].map(([code, count]) => `${code} ×${count}`).join(', ')
    this.suppressed.clear()
    this.options.log(`${INPUT_LOG_SUPPRESSED_CODE}: refusals of venue input not logged in full (past ${this.options.linesMax} lines in ${this.options.windowMs} ms): ${counts}`)
  }
}
