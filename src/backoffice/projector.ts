/**
 * The back office running beside the engine: it replays the log into the ledger on start, follows the engine's
 * durable events, and writes the query model in batches on a timer — never inside the order path (the engine's
 * listener only folds events into memory; SQLite is written later, off that path).
 *
 * Position tracking: every record the log commits is either a domain event (delivered by the engine after the
 * commit) or a record the back office skips (audit seals, its own break records). A commit listener notes the LSN
 * of each domain frame as it becomes durable; delivery ticks it off. So `appliedLsn` — every record up to here is in
 * the ledger — is exact, and a stalled projection shows as the log growing while it does not.
 */

import { toHex, type Frame, type Wal } from '../../wal/index.ts'
import { assert } from '../domain/assert.ts'
import type { Clock } from '../domain/clock.ts'
import type { Units } from '../domain/decimal.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import type { Engine } from '../runtime/engine.ts'
import { isAuditRecord } from '../runtime/records.ts'
import { BreakBook, decodeBackOfficeRecord, isBackOfficeRecord, type BackOfficeRecord } from './breaks.ts'
import { balanceRowsOf } from './balances.ts'
import { copyBreaks, foldFrame } from './fold.ts'
import { accountBook } from './books.ts'
import { genesisLedger, initialLedger, type Booked, type FillRecord, type LedgerState, type Posting } from './ledger-state.ts'
import { applyEvent, cloneLedger } from './ledger.ts'
import { LsnQueue } from './lsn-queue.ts'
import { positionKey, type Position } from './positions.ts'
import { openStartingStore, type ProjectorStart } from './projector-start.ts'
import type { FillReads } from './external-checks.ts'
import { finishSection } from './section-capture.ts'
import { Store, type BalanceRow } from './store.ts'
import type { TrueUpFill } from './true-up-fills.ts'
import { WrittenBalances } from './written-balances.ts'
import { PENDING_ROWS_FAILING_FACTOR, QueryModelWriteError, reportToStderr, WriteFailures } from './write-failures.ts'
import type { ProjectorOptions, ProjectorStats } from './projector-options.ts'

export { PROJECTOR_DEFAULTS, type ProjectorOptions, type ProjectorStats } from './projector-options.ts'

export class Projector {
  readonly ledger: LedgerState
  readonly breaks: BreakBook
  readonly store: Store
  private readonly engine: Engine
  private readonly clock: Clock
  private readonly options: ProjectorOptions
  private pendingPostings: Posting[] = []
  private pendingFills: FillRecord[] = []
  private pendingTrueUpFills: TrueUpFill[] = []
  private readonly dirtyPositions = new Set<Position>()
  private readonly writtenBalances = new WrittenBalances()
  /** LSNs of domain frames durable but not yet delivered by the engine, oldest first. */
  private readonly undelivered = new LsnQueue()
  /** The last LSN the log made durable (its commit listener's). */
  private committedLsn: number
  /**
   * The chain hash of the record at committedLsn: a copy of its bytes as the commit listener found them, made text only
   * when a flush writes it. Flushes are far fewer than commits, and a commit now makes a view and a copy where the text
   * made a view, a buffer, the text and an object.
   */
  private committedHash: Uint8Array | string
  private flushCancel: (() => void) | null = null
  /** The error of the first live break record this build could not read: the break book lacks it (BackOffice). */
  breaksUnread: unknown = null
  private readonly unsubscribes: (() => void)[] = []
  private closed = false
  readonly rebuiltStore: boolean
  readonly startedFromLsn: number
  readonly ledgerComplete: boolean
  readonly restoredStore: boolean
  readonly sectionLsn: number | null
  readonly sectionProblem: string | null
  /** The store holds history the ledger lacks: nothing is written to it (projector-start.ts), and this says why. */
  private readonly startHeld: string | null
  /** Failed writes of the query model, and whether they stopped it (write-failures.ts). */
  readonly writeFailures: WriteFailures
  /**
   * The ledger at the newest snapshot section (the one started from, then each one captured): where the replay check
   * starts once the log no longer begins at LSN 1. Never mutated (the check replays a copy).
   */
  private replayBase: { ledger: LedgerState; lsn: number } | null

  private constructor(options: ProjectorOptions, store: Store, start: ProjectorStart) {
    this.options = options
    this.engine = options.engine
    this.clock = options.clock
    this.store = store
    this.ledger = start.section?.ledger ?? genesisLedger(start.lotsUntrackedThroughLsn)
    this.breaks = start.section?.breaks ?? new BreakBook()
    this.rebuiltStore = start.rebuilt
    this.restoredStore = start.restoredStore
    this.sectionLsn = start.section?.header.lsn ?? null
    this.sectionProblem = start.sectionProblem
    this.startHeld = start.storeHeld
    this.writeFailures = new WriteFailures(options.report ?? reportToStderr)
    this.replayBase = start.section === null ? null : { ledger: cloneLedger(start.section.ledger), lsn: start.section.header.lsn }
    this.startedFromLsn = store.lastLsn
    this.ledgerComplete = options.engine.wal.firstLsn <= 1 || start.section !== null
    this.committedLsn = options.engine.wal.lastLsn
    this.committedHash = toHex(options.engine.wal.chainHead)
  }

  /**
   * Opens the store, brings the ledger to the log's end (from the snapshot's section when one fits, else from the
   * log's first record), writes what the store lacks, then follows the engine.
   */
  static open(options: ProjectorOptions): Projector {
    const { store, start } = openStartingStore(options.storePath, options.engine, options.section, { refuseBeyondLog: options.refuseStoreBeyondLog ?? false })
    const projector = new Projector(options, store, start)
    try {
      projector.catchUp(start.section?.header.lsn ?? 0)
    } catch (error) {
      store.close()
      throw error
    }
    projector.follow()
    try {
      projector.flush()
    } catch (error) {
      // Refused as a failed catch-up write is: nothing left subscribed or open.
      projector.close({ flush: false })
      throw error
    }
    return projector
  }

  /** Why the query model is written no further: held at start (projector-start.ts), or stopped by failed writes; or null. */
  get storeHeld(): string | null {
    const stopped = this.writeFailures.stopped
    return this.startHeld ?? (stopped === null ? null : `${stopped.shortCode}: the query model stopped after failed writes; a restart rebuilds it from the log`)
  }

  /** Every record up to this LSN is in the ledger. */
  get appliedLsn(): number {
    const oldest = this.undelivered.peek()
    return oldest === undefined ? this.committedLsn : oldest - 1
  }

  get pendingRows(): number {
    return this.pendingPostings.length + this.pendingFills.length + this.pendingTrueUpFills.length
  }

  stats(): ProjectorStats {
    const walLastLsn = this.engine.wal.lastLsn
    return {
      appliedLsn: this.appliedLsn,
      storedLsn: this.store.lastLsn,
      walLastLsn,
      lagRecords: Math.max(0, walLastLsn - this.store.lastLsn),
      pendingRows: this.pendingRows,
      batchesWritten: this.store.batches,
      rebuiltStore: this.rebuiltStore,
      startedFromLsn: this.startedFromLsn,
      ledgerComplete: this.ledgerComplete,
      sectionLsn: this.sectionLsn,
      restoredStore: this.restoredStore,
      sectionProblem: this.sectionProblem,
      storeHeld: this.storeHeld,
    }
  }

  /**
   * The snapshot hook: called synchronously in the snapshot's capture step (nothing else runs), it copies the ledger
   * and break book as they are, and returns the finisher the snapshot calls once its LSN is durable. The finisher
   * brings the copies forward to the section's LSN from the log, waits until the query model is written that far,
   * copies it and trims the copy back to exactly that LSN. Null once closed.
   */
  captureSection(): ((kernelLsn: number, pause: () => Promise<void>) => Promise<Uint8Array>) | null {
    // A ledger missing the compacted history gives no section: a start from it would take its figures as whole.
    if (this.closed || !this.ledgerComplete || this.writeFailures.stopped !== null) return null
    const appliedLsn = this.appliedLsn
    const ledger = cloneLedger(this.ledger)
    const breaks = copyBreaks(this.breaks, new BreakBook())
    return async (kernelLsn, pause) => {
      const section = await finishSection({ wal: this.engine.wal, store: this.store, ledger, breaks, appliedLsn, kernelLsn, pause, closed: () => this.closed, flush: () => this.sectionFlush() })
      if (this.replayBase === null || this.replayBase.lsn < section.lsn) this.replayBase = { ledger, lsn: section.lsn }
      return section.bytes
    }
  }

  /**
   * The query model's fills for the trades check. `storedThrough` writes every fill folded so far first; the store's
   * LSN moves only by a whole flush, so at or past `lsn` every fill through it is stored (a flush declined for a batch
   * not yet delivered does not matter then). The check reads only after it answered true.
   */
  fillReads(): FillReads {
    return {
      storedThrough: (lsn) => (this.flush(), this.store.lastLsn >= lsn),
      held: this.storeHeld,
      from: (accountId, venue, page) => this.store.fills({ accountId, venue, ...page }),
      // By order id alone, so SQLite takes the fills_order index (with the account too it may take fills_account).
      ofOrder: (accountId, venue, orderId) =>
        this.store.fills({ orderId, limit: Number.MAX_SAFE_INTEGER }).filter((fill) => fill.accountId === accountId && fill.venue === venue),
    }
  }

  /**
   * Writes pending rows, positions and balances with the position they reflect, in one transaction. Skipped (and
   * retried on the next tick) in the instant between a commit and the engine delivering it. A write that fails throws
   * QueryModelWriteError, its rows still pending (write-failures.ts).
   */
  flush(): boolean {
    if (this.closed) return false
    // Nothing is kept for a held store (keep): it stays as it is, and there is nothing to wait for.
    if (this.storeHeld !== null) return true
    const lsn = this.appliedLsn
    if (this.undelivered.size > 0 || lsn < this.store.lastLsn) return false
    if (lsn === this.store.lastLsn && this.pendingRows === 0 && this.dirtyPositions.size === 0) return true
    assert(lsn === this.committedLsn, 'the projector flushes only at a committed batch end')
    if (typeof this.committedHash !== 'string') this.committedHash = toHex(this.committedHash)
    this.writeBatch(lsn, this.committedHash)
    return true
  }

  /** Writes the pending rows, the positions they changed and the balances that changed, at `lsn` (the ledger's there). */
  private writeBatch(lsn: number, hash: string): void {
    const balances = this.writtenBalances.changed(this.ledger)
    try {
      this.store.write({
        lastLsn: lsn,
        lastHash: hash,
        postings: this.pendingPostings,
        fills: this.pendingFills,
        trueUpFills: this.pendingTrueUpFills,
        positions: [...this.dirtyPositions],
        balances,
        lotsUntrackedThroughLsn: this.ledger.lotsUntrackedThroughLsn,
      })
    } catch (cause) {
      // Rolled back: rows stay pending, and every balance is written again (`changed` took these as written already).
      this.writtenBalances.forget()
      const error = new QueryModelWriteError(this.store.path, cause)
      if (this.writeFailures.failed(error, this.pendingRows, PENDING_ROWS_FAILING_FACTOR * this.options.batchRowsMax)) this.dropPending()
      throw error
    }
    this.writeFailures.succeeded()
    this.dropPending()
  }

  /** Written, or never to be (the query model stopped: keep() keeps nothing more). */
  private dropPending(): void {
    this.pendingPostings = []
    this.pendingFills = []
    this.pendingTrueUpFills = []
    this.dirtyPositions.clear()
  }

  /** Applies a back-office record this process appended, once durable (a no-op when the commit listener has). */
  noteOwnRecords(records: readonly { lsn: number; record: BackOfficeRecord }[]): void {
    for (const { lsn, record } of records) this.breaks.apply(record, lsn)
  }

  /** Stops following. `flush: false` writes nothing more — what a crash leaves behind (crash tests use it). */
  close(options: { flush: boolean } = { flush: true }): void {
    if (this.closed) return
    // A last write that fails loses nothing: the next start writes from the log what the query model lacks.
    if (options.flush) this.flushCaught()
    this.closed = true
    this.flushCancel?.()
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
    this.store.close()
  }

  /**
   * Where an independent replay of the ledger can start: genesis while the log begins at LSN 1, else the newest
   * snapshot section's ledger (a copy) while the log still holds the records after it; null when neither (the check
   * is then skipped, not faked). A ledger that continues a section written before synthetic lots
   * (LedgerState.lotsUntrackedThroughLsn) is replayed from genesis with the same untracked LSN: that fold splits the
   * true-ups of synthetic quantity booked through it by the older rule, as the build that wrote the section did, so
   * the whole history is still compared (a section's figures are never taken on trust while genesis is there).
   */
  replayBaseLedger(): { ledger: LedgerState; lsn: number } | 'genesis' | null {
    const wal = this.engine.wal
    if (wal.firstLsn <= 1) {
      const untrackedThroughLsn = this.ledger.lotsUntrackedThroughLsn
      return untrackedThroughLsn === 0 ? 'genesis' : { ledger: genesisLedger(untrackedThroughLsn), lsn: 0 }
    }
    const base = this.replayBase
    return base !== null && base.lsn >= wal.firstLsn ? { ledger: cloneLedger(base.ledger), lsn: base.lsn } : null
  }

  /** Balances as the ledger holds them now: per account × asset, total and reserved. */
  balanceRows(): BalanceRow[] {
    return balanceRowsOf(this.ledger)
  }

  /**
   * Folds the log after `fromLsn` (a section's LSN, or 0) into the ledger and break book. What it keeps for the store
   * is written every batchRowsMax rows, at the record that reached them, as the live path writes: a rebuild over a long
   * log held every row of it in memory and wrote them in one transaction.
   */
  private catchUp(afterLsn: number): void {
    const wal = this.engine.wal
    const resumeAfter = this.store.lastLsn
    if (this.storeHeld === null) this.writtenBalances.load(this.store.balances())
    for (const frame of wal.read(Math.max(wal.firstLsn, afterLsn + 1))) {
      const booked = foldFrame(this.ledger, this.breaks, frame)
      // Rows the store already holds are not written again: the LSN says where it stopped.
      if (booked !== null && frame.lsn > resumeAfter) this.keep(booked)
      if (this.pendingRows >= this.options.batchRowsMax && this.storeHeld === null) this.writeBatch(frame.lsn, toHex(frame.hash))
    }
    if (this.storeHeld !== null) return
    for (const position of this.ledger.positions.values()) if (position.lastLsn > resumeAfter) this.dirtyPositions.add(position)
  }

  private follow(): void {
    const scannedTo = this.engine.wal.lastLsn
    this.unsubscribes.push(
      this.engine.wal.subscribe((batch) => {
        let unread: unknown = null
        for (const frame of batch.frames) {
          if (!isAuditRecord(frame.type)) this.undelivered.push(frame.lsn)
          // Break records are folded as they become durable, so the break book is always whole up to the commit.
          else if (isBackOfficeRecord(frame.type)) {
            const problem = this.foldBreakRecord(frame)
            unread ??= problem
          }
        }
        const last = batch.frames[batch.frames.length - 1]
        this.committedLsn = batch.lastLsn
        // A copy: the frame's hash is a view into the batch's buffer.
        if (last !== undefined) this.committedHash = last.hash.slice()
        // Thrown only now (to onListenerError): from the walk, it left the batch's later LSNs out of `undelivered`.
        if (unread !== null) throw unread
      }),
    )
    this.unsubscribes.push(
      this.engine.onDurable((events) => {
        for (const { event, lsn } of events) {
          // The scan already saw what was durable when it ran; the engine may still be delivering those batches.
          if (lsn <= scannedTo) continue
          this.deliver(event, lsn)
        }
      }),
    )
    this.scheduleFlush(this.options.flushIntervalMs)
  }

  /** Folds a live break record; returns what it threw (a SchemaError: a newer build's record), or null. */
  private foldBreakRecord(frame: Frame): unknown {
    try {
      const record = decodeBackOfficeRecord(frame)
      if (record !== null) this.breaks.apply(record, frame.lsn)
      return null
    } catch (error) {
      this.breaksUnread ??= error
      return error
    }
  }

  private deliver(event: DomainEvent, lsn: number): void {
    const expected = this.undelivered.shift()
    // Tested before the message is built: a message function would be a closure per event.
    if (expected !== lsn) assert(false, `back office expected LSN ${expected} from the engine, got ${lsn}`)
    this.keep(applyEvent(this.ledger, event, lsn))
    // Not while writes fail: each retry writes every pending row; the interval paces them.
    if (this.pendingRows >= this.options.batchRowsMax && this.writeFailures.failing === null) this.scheduleFlush(0)
  }

  private keep(booked: Booked): void {
    if (this.storeHeld !== null) return
    if (booked.postings.length > 0) this.pendingPostings.push(...booked.postings)
    if (booked.fill !== null) {
      this.pendingFills.push(booked.fill)
      const position = this.ledger.positions.get(positionKey(booked.fill.accountId, booked.fill.venue, booked.fill.symbol))
      assert(position !== undefined, () => `fill ${booked.fill?.execId} booked without a position`)
      this.dirtyPositions.add(position)
    }
    if (booked.position !== undefined) this.dirtyPositions.add(booked.position)
    if (booked.trueUpFill !== undefined) this.pendingTrueUpFills.push(booked.trueUpFill)
  }

  /** A flush whose failed write is reported and counted (writeBatch), not thrown: its rows wait for the next one. */
  private flushCaught(): void {
    try {
      this.flush()
    } catch (error) {
      if (!(error instanceof QueryModelWriteError)) throw error
    }
  }

  /** A snapshot's wait for the query model: a stopped one never gets there (captureSection gives none then). */
  private sectionFlush(): boolean {
    if (this.writeFailures.stopped !== null) throw this.writeFailures.stopped
    return this.flush()
  }

  private scheduleFlush(delayMs: number): void {
    if (this.closed) return
    this.flushCancel?.()
    this.flushCancel = this.clock.schedule(delayMs, () => {
      this.flushCancel = null
      this.flushCaught()
      this.scheduleFlush(this.options.flushIntervalMs)
    })
  }
}

/** What an account holds of `asset` according to the ledger (convenience for views and reconcile). */
export function ledgerBalance(ledger: LedgerState, accountId: string, asset: string): Units {
  return ledger.books.get(accountBook(accountId))?.get(asset) ?? 0n
}
