/**
 * A venue's execution report on its way into the kernel (Gateway: every adapter's onReport). It is checked first
 * against what the log can hold and read back (report-check.ts); a report that fails is refused and its order, if it
 * is one of ours, read back from the venue, which tells what the report would have.
 *
 * A report the log's queue has no room for is held, not dropped: retrying it is safe, since a report is inbound (it
 * never sends an order) and the inbox drops one it has recorded already. Held reports are submitted again, in the
 * order they arrived, when the log has room (`resume`: after each durable batch, and on a timer while any are held);
 * while any are held, new reports queue behind them, so each order's reports are decided in arrival order. The
 * queue is bounded (`heldMax`): a report arriving to a full queue is dropped and its order read back, as every
 * unrecorded report's was before. Held reports are dropped, counted, at stop.
 *
 * A report about none of our orders raises REPORT_ORPHANED once per orphaned venue order (orphan-alerts.ts).
 *
 * An intake made `closed` holds every report, in the same queue and bound, until `open()`: the gateway's start opens
 * it once bootstrap has recorded the start's configuration, paper fundings and mode, so news a venue sends right after
 * its Logon (sessions log on before bootstrap) is decided after them. Decided before, a fill could create the balance a
 * newly configured funding then skipped as already funded (bootstrap funds an asset an account holds none of), and the
 * log showed venue news decided under the previous start's configuration and retirement rule.
 */

import { orderIdFromClientId } from '../domain/orders.ts'
import type { Units } from '../domain/decimal.ts'
import type { Clock } from '../domain/clock.ts'
import { isOrphanReport, type VenueReportCommand } from '../kernel/index.ts'
import type { ExecutionReport } from '../venues/adapter.ts'
import type { CommandSink, Committed, Engine } from './engine.ts'
import { HeldQueue } from './held-queue.ts'
import { OrphanAlerts } from './orphan-alerts.ts'
import { invalidReportOf } from './report-check.ts'
import { isRefusedAtStop } from './stop-drain.ts'

/** Reports held for the log's room at most, by default. */
export const REPORTS_HELD_MAX = 10_000
/** While reports are held, how often the log's room is looked at besides after each durable batch. */
export const HELD_RETRY_MS = 50

/** A report dropped because the holding queue was full: its order is read back from the venue instead. */
export class VenueReportDroppedError extends Error {
  override readonly name = 'VenueReportDroppedError'
  readonly code = 'VENUE_REPORT_DROPPED'
}

export interface ReportIntakeOptions {
  engine: Engine
  clock: Clock
  onError: (error: unknown, context: string) => void
  /** A fill the kernel recorded for one of our orders (the fill-gap watch). */
  noteFill: (orderId: string, cumQty: Units) => void
  /** Asks the venue for the order's state (the executor's read-back, paced per order: report-read-backs.ts). */
  readBack: (orderId: string) => void
  /** Reports held for the log's room at most; default REPORTS_HELD_MAX. */
  heldMax?: number | undefined
  /** Orphaned venue orders remembered (their alert raised); default ORPHANS_REMEMBERED_MAX. */
  orphansRememberedMax?: number
  /** Hold every report until `open()` (a gateway's start, until bootstrap has configured the kernel); default false. */
  closed?: boolean
}

export interface ReportIntakeStats {
  /** Reports waiting for room in the log (or, at a start, for the intake to open) now. */
  held: number
  /** Reports the log had no room for when they came (or when they were tried again): each held, once. */
  heldTotal: number
  /** Held reports the log then took. */
  resubmitted: number
  /** Reports dropped for a full holding queue, or held at stop: their orders were read back or will be at start. */
  dropped: number
  /** Orphan reports recorded without a second REPORT_ORPHANED alert. */
  orphanRepeats: number
}

export class ReportIntake {
  private readonly options: ReportIntakeOptions
  private readonly heldMax: number
  private readonly orphans: OrphanAlerts
  /** Held reports, oldest first. */
  private readonly held = new HeldQueue<ExecutionReport>()
  private heldTotal = 0
  private resubmitted = 0
  private dropped = 0
  /** A drop was reported to onError since the queue last emptied (one line per episode, not one per report). */
  private dropReported = false
  private retryCancel: (() => void) | null = null
  private resumeQueued = false
  private stopped = false
  /** Not open yet: every report is held (`open`). */
  private closed: boolean

  constructor(options: ReportIntakeOptions) {
    this.options = options
    this.heldMax = options.heldMax ?? REPORTS_HELD_MAX
    if (!Number.isSafeInteger(this.heldMax) || this.heldMax < 0) throw new RangeError(`heldMax must be a non-negative integer, got ${this.heldMax}`)
    this.orphans = new OrphanAlerts(options.orphansRememberedMax)
    this.closed = options.closed ?? false
  }

  /** Lets held and new reports in, oldest first (a no-op when open). */
  open(): void {
    if (!this.closed) return
    this.closed = false
    this.resume()
  }

  get stats(): ReportIntakeStats {
    return { held: this.held.size, heldTotal: this.heldTotal, resubmitted: this.resubmitted, dropped: this.dropped, orphanRepeats: this.orphans.repeats }
  }

  /**
   * Takes one report from a venue. Resolves once it is recorded, refused, held or dropped (a held one is recorded
   * later, by `resume`).
   */
  submit(report: ExecutionReport): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>()
    this.take(report, resolve)
    return promise
  }

  /**
   * submit() without a promise, for the venues' reports (the gateway): `done`, when given, is called where submit's
   * promise resolves. A recorded report is a ReportRecording, the decision's sink: no promise or closure per report.
   */
  take(report: ExecutionReport, done: (() => void) | null = null): void {
    const invalid = invalidReportOf(report)
    if (invalid !== null) {
      this.options.onError(invalid, `execution report ${String(report.execId)}`)
      this.readBackOrderOf(report)
      done?.()
      return
    }
    if (this.closed || this.held.size > 0 || !this.tryRecord(report, done)) {
      this.hold(report)
      done?.()
    }
  }

  /** Submits held reports again, oldest first, until the log has no room for one (it stays first) or none is left. */
  resume(): void {
    if (this.closed) return
    for (let first = this.held.first(); first !== undefined && !this.stopped; first = this.held.first()) {
      if (!this.tryRecord(first, null)) break
      this.held.dropFirst()
      this.resubmitted++
    }
    if (this.held.size > 0) this.armRetry()
    else {
      this.dropReported = false
      this.retryCancel?.()
      this.retryCancel = null
    }
  }

  /** resume() from a microtask, if anything is held (a durable listener: the others see the batch first). */
  resumeSoon(): void {
    if (this.held.size === 0 || this.resumeQueued) return
    this.resumeQueued = true
    queueMicrotask(() => {
      this.resumeQueued = false
      this.resume()
    })
  }

  /** Drops what is held (counted; the orders are read back at the next start's bootstrap) and stops retrying. */
  stop(): void {
    this.stopped = true
    this.retryCancel?.()
    this.retryCancel = null
    const left = this.held.takeAll().length
    if (left === 0) return
    this.dropped += left
    this.options.onError(new VenueReportDroppedError(`${left} venue reports held for the log's room were dropped at stop`), 'execution reports held')
  }

  /**
   * Submits `report` to the kernel: false when the log has no room (nothing decided was applied), else true, and
   * `done` is called once it is recorded or refused.
   */
  private tryRecord(report: ExecutionReport, done: (() => void) | null): boolean {
    const { engine, clock } = this.options
    const orphan = isOrphanReport(engine.state, report)
    const repeat = orphan && this.orphans.alertedFor(report)
    const command: VenueReportCommand = repeat ? { kind: 'venue_report', nowMs: clock.nowMs(), report, orphanRepeat: true } : { kind: 'venue_report', nowMs: clock.nowMs(), report }
    let taken: boolean
    try {
      // Without `done` (the venues' reports) one sink serves every report: it finds the report on its command.
      taken = engine.submitIfRoomTo(command, done === null ? this.recordingSink : new ReportRecording(this.recordingOwner, report, done))
    } catch (error) {
      this.refused(report, error)
      done?.()
      return true
    }
    if (taken && orphan) this.orphans.noteRecorded(report, repeat)
    return taken
  }

  /** Where every ReportRecording is told how its decision ended (one object for all of them). */
  private readonly recordingOwner: RecordingOwner = {
    recorded: (report, committed) => {
      if (report.kind !== 'fill') return
      const accepted = committed.decision.events[0]
      if (accepted?.type === 'inbox.report_accepted' && accepted.orderId !== null) this.options.noteFill(accepted.orderId, report.cumQty)
    },
    refused: (report, error) => this.refused(report, error),
  }

  /** The sink of every report recorded without a `done` (take's, resume's): the report is its command's. */
  private readonly recordingSink: CommandSink = {
    resolve: (committed, command) => this.recordingOwner.recorded((command as VenueReportCommand).report, committed),
    reject: (error, command) => this.refused((command as VenueReportCommand).report, error),
  }

  /** A report the kernel did not record (a record too large, a dead log): its order is read back. */
  private refused(report: ExecutionReport, error: unknown): void {
    // Refused by a stopping engine (stop-drain.ts): expected; the next start reads its order back from the venue.
    if (isRefusedAtStop(error)) return
    this.options.onError(error, `execution report ${report.execId}`)
    this.readBackOrderOf(report)
  }

  private hold(report: ExecutionReport): void {
    if (this.stopped || this.held.size >= this.heldMax) return this.drop(report)
    this.held.push(report)
    this.heldTotal++
    this.armRetry()
  }

  private drop(report: ExecutionReport): void {
    this.dropped++
    if (!this.dropReported) {
      this.dropReported = true
      const why = this.stopped ? 'the intake is stopped' : `${this.heldMax} reports are held already`
      this.options.onError(new VenueReportDroppedError(`${report.venue} report ${report.execId} dropped: the log has no room and ${why}; its order is read back`), `execution report ${report.execId}`)
    }
    this.readBackOrderOf(report)
  }

  /** While reports are held, the log's room is looked at every HELD_RETRY_MS too (a batch of records that are not commands, an audit seal, tells no durable listener). */
  private armRetry(): void {
    if (this.retryCancel !== null || this.stopped || this.closed) return
    this.retryCancel = this.options.clock.schedule(HELD_RETRY_MS, () => {
      this.retryCancel = null
      this.resume()
    })
  }

  private readBackOrderOf(report: ExecutionReport): void {
    const orderId = typeof report.clientOrderId === 'string' ? orderIdFromClientId(report.clientOrderId) : null
    if (orderId !== null && this.options.engine.state.orders.has(orderId)) this.options.readBack(orderId)
  }
}

interface RecordingOwner {
  recorded(report: ExecutionReport, committed: Committed): void
  refused(report: ExecutionReport, error: unknown): void
}

/** One report's decision on its way to the log, as the engine's sink for it (Engine.submitIfRoomTo). */
class ReportRecording implements CommandSink {
  private readonly owner: RecordingOwner
  private readonly report: ExecutionReport
  private readonly done: () => void

  constructor(owner: RecordingOwner, report: ExecutionReport, done: () => void) {
    this.owner = owner
    this.report = report
    this.done = done
  }

  resolve(committed: Committed): void {
    try {
      this.owner.recorded(this.report, committed)
    } finally {
      this.done()
    }
  }

  reject(error: unknown): void {
    try {
      this.owner.refused(this.report, error)
    } finally {
      this.done()
    }
  }
}
