/**
 * The data directory's free space, read on a timer (never per request), and the intake's decision from it: below the
 * floor (config `storage.freeBytesMin`) new orders and amends are refused with 503 DISK_LOW before anything is
 * recorded, while cancels, flattens, kill switches and reads pass. A failed write or fsync of the log is fatal by
 * design (the process exits 74): this lets a filling disk stop new risk first, and leaves the room that is left to the
 * records that reduce it (cancels, fills, reconciliation).
 *
 * The refusal is the HTTP intake's, like backpressure's 429, and writes nothing: a standby re-decides the leader's
 * logged commands, and a decision recorded from the leader's disk would be one it cannot take again from its own.
 *
 * A read that fails (the directory removed, EACCES, EIO), or one that has not answered within STALL_CHECKS checks (a
 * hung mount), fails safe when a floor is set: new orders and amends are refused until a read succeeds, since a data
 * directory that cannot be examined is one whose next write may fail. Without a floor nothing is refused; either way
 * the failure is in /health (`disk.error`) and counted. The last good reading stays shown (`free_bytes`).
 *
 * Before the first read has answered there is no reading: with a floor set that refuses too (reason `not_read_yet`),
 * for the same reason. `serve` waits (bounded) for the first reading before it listens, but an HA node builds a new
 * watch at every role change and serves through it at once (serve-ha.ts onGateway): a leader just promoted accepted
 * new orders with no reading at all until statfs answered — for up to STALL_CHECKS intervals on a hung mount.
 *
 * Changes of the decision and of the read's health are logged once each way (edge-triggered), never per check.
 */

import { readFreeBytes, type FreeBytesReader } from './free-bytes.ts'

/** A read still unanswered after this many check intervals counts as failed (a hung file system). */
export const STALL_CHECKS = 3

export interface DiskWatchOptions {
  /** The data directory: the log, snapshots and the query model live there. */
  dir: string
  /** Below this many free bytes new orders and amends are refused; 0: no floor. */
  freeBytesMin: number
  checkEveryMs: number
  /** The free-space reader (statfs); a spec passes its own. */
  read?: FreeBytesReader
  /** Monotonic ms, for a read that hangs; performance.now() by default. */
  nowMs?: () => number
  /** Where the edge-triggered lines go. */
  log?: (line: string) => void
}

/** What /health shows (`disk`) and the metrics sample. */
export interface DiskStatus {
  /** The last good reading; null before the first one. */
  freeBytes: number | null
  freeBytesMin: number
  /** Why the last read failed (or has not answered); null when it succeeded. */
  error: string | null
  /** New orders and amends are being refused (DISK_LOW). */
  refusing: boolean
}

/** Why a new order or amend is refused, for its 503. */
export interface DiskRefusal {
  reason: 'below_floor' | 'unreadable' | 'not_read_yet'
  freeBytes: number | null
  freeBytesMin: number
  retryAfterSec: number
}

export class DiskWatch {
  private readonly options: DiskWatchOptions
  private readonly read: FreeBytesReader
  private readonly nowMs: () => number
  private freeBytes: number | null = null
  private error: string | null = null
  /** No read has answered yet (refusing then means not_read_yet: the fail-safe start, not a refusal that began). */
  private unread = true
  private refusing: boolean
  private reading: Promise<void> | null = null
  private readingSinceMs = 0
  private timer: ReturnType<typeof setInterval> | null = null
  /** Failed reads, and times the intake began refusing: running totals for the metrics. */
  readonly counts = { readFailures: 0, refusalsBegun: 0 }

  constructor(options: DiskWatchOptions) {
    this.options = options
    this.read = options.read ?? readFreeBytes
    this.nowMs = options.nowMs ?? (() => performance.now())
    // No reading yet: refused when a floor is set, until the first read answers (see the file's comment).
    this.refusing = options.freeBytesMin > 0
  }

  get status(): DiskStatus {
    return { freeBytes: this.freeBytes, freeBytesMin: this.options.freeBytesMin, error: this.error, refusing: this.refusing }
  }

  /** Why new orders and amends are refused now, or null. */
  refusal(): DiskRefusal | null {
    if (!this.refusing) return null
    return {
      reason: this.error !== null ? 'unreadable' : this.freeBytes === null ? 'not_read_yet' : 'below_floor',
      freeBytes: this.freeBytes,
      freeBytesMin: this.options.freeBytesMin,
      retryAfterSec: Math.max(1, Math.ceil(this.options.checkEveryMs / 1000)),
    }
  }

  /** Reads now (at once) and then every checkEveryMs until close. */
  start(): Promise<void> {
    if (this.timer === null) {
      this.timer = setInterval(() => void this.check(), this.options.checkEveryMs)
      // The process ends when its work does: a free-space timer is none of it.
      this.timer.unref()
    }
    return this.refresh()
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** One timer tick: a new read, or, while the last one has not answered for STALL_CHECKS intervals, a failure. */
  check(): Promise<void> {
    if (this.reading === null) return this.refresh()
    const waitedMs = this.nowMs() - this.readingSinceMs
    if (waitedMs >= STALL_CHECKS * this.options.checkEveryMs) this.failed(`statfs has not answered in ${Math.round(waitedMs)} ms`)
    return this.reading
  }

  /** Reads the free space once (joining a read in flight) and decides again. Never rejects. */
  refresh(): Promise<void> {
    if (this.reading !== null) return this.reading
    this.readingSinceMs = this.nowMs()
    const reading = this.read(this.options.dir).then(
      (freeBytes) => this.succeeded(freeBytes),
      (error: unknown) => this.failed(error instanceof Error ? error.message : String(error)),
    )
    this.reading = reading.finally(() => {
      this.reading = null
    })
    return this.reading
  }

  private succeeded(freeBytes: number): void {
    if (this.error !== null) this.say(`the data dir's free space can be read again (${freeBytes} bytes free)`)
    this.freeBytes = freeBytes
    this.error = null
    this.decide()
  }

  private failed(message: string): void {
    this.counts.readFailures++
    if (this.error === null) {
      const consequence = this.options.freeBytesMin > 0 ? 'new orders and amends are refused (DISK_LOW) until a read succeeds' : 'no floor is set, so nothing is refused'
      this.say(`cannot read the data dir's free space (${this.options.dir}): ${message}; ${consequence}`)
    }
    this.error = message
    this.decide()
  }

  private decide(): void {
    const floor = this.options.freeBytesMin
    const refusing = floor > 0 && (this.error !== null || this.freeBytes === null || this.freeBytes < floor)
    // The first answer decides from "not refusing": the not_read_yet refusal before it is neither logged nor counted as
    // a refusal begun, and its end is no "accepted again".
    const was = this.unread ? false : this.refusing
    this.unread = false
    this.refusing = refusing
    if (refusing === was) return
    if (refusing) {
      this.counts.refusalsBegun++
      if (this.error === null) this.say(`the data dir has ${this.freeBytes} bytes free, below storage.freeBytesMin ${floor}: new orders and amends are refused (DISK_LOW); cancels, flattens and reads pass`)
    } else {
      this.say(`the data dir has ${this.freeBytes} bytes free, at or above storage.freeBytesMin ${floor}: new orders and amends are accepted again`)
    }
  }

  private say(line: string): void {
    this.options.log?.(line)
  }
}
