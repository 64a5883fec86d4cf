/**
 * Notices a JSONL connection the venue has gone silent on. A half-open TCP connection (the venue's host lost power, a
 * NAT or firewall forgot the flow) gives no close and no error: the kernel says nothing until a write has been
 * retried for many minutes, and with nothing to write, never. The sim venue pushes prices to every client every
 * pricePushMs (server.ts), an empty push included, so a connection with nothing heard for `silenceMsMax` is gone: the
 * client drops it, its calls become `unknown`, and the reconnect asks for a read-back (client.ts), as a FIX session
 * drops a peer that does not answer its TestRequest (fix/session-timers.ts).
 */

/** Checks per silenceMsMax: a silent connection is dropped at most a quarter of the bound late. */
const CHECKS_PER_BOUND = 4

export interface SilenceWatchOptions {
  silenceMsMax: number
  nowMs: () => number
  /** Called once, when nothing was heard for silenceMsMax; the watch has stopped. */
  onSilent: (silentMs: number) => void
}

export class SilenceWatch {
  private heardMs: number
  private checkedMs: number
  private readonly checkMs: number
  private readonly options: SilenceWatchOptions
  private readonly timer: ReturnType<typeof setInterval>

  constructor(options: SilenceWatchOptions) {
    this.options = options
    this.heardMs = options.nowMs()
    this.checkedMs = this.heardMs
    this.checkMs = Math.max(1, Math.floor(options.silenceMsMax / CHECKS_PER_BOUND))
    this.timer = setInterval(() => this.check(), this.checkMs)
  }

  /** The venue sent something (any bytes: a line under way counts). */
  heard(): void {
    this.heardMs = this.options.nowMs()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private check(): void {
    const nowMs = this.options.nowMs()
    const lateMs = nowMs - this.checkedMs - this.checkMs
    this.checkedMs = nowMs
    // This process stalled (stopped, swapped, a long synchronous task): what the venue sent meanwhile may wait unread
    // behind this timer, so the silence is not shown to be the venue's. It is judged afresh from now.
    if (lateMs > this.checkMs) {
      this.heardMs = nowMs
      return
    }
    const silentMs = nowMs - this.heardMs
    if (silentMs < this.options.silenceMsMax) return
    this.stop()
    this.options.onSilent(silentMs)
  }
}
