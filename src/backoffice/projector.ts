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

import { hashesEqual, fromHex, toHex } from '../../wal/index.ts'
import { assert } from '../domain/assert.ts'
import type { Clock } from '../domain/clock.ts'
import type { Units } from '../domain/decimal.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import type { Engine } from '../runtime/engine.ts'
import { domainEventOf, isAuditRecord } from '../runtime/records.ts'
import { BreakBook, decodeBackOfficeRecord, isBackOfficeRecord, type BackOfficeRecord } from './breaks.ts'
import { accountBook, applyEvent, initialLedger, type Booked, type FillRecord, type LedgerState, type Posting } from './ledger.ts'
import { positionKey, type Position } from './positions.ts'
import { Store, type BalanceRow } from './store.ts'

export interface ProjectorOptions {
  engine: Engine
  clock: Clock
  /** SQLite file of the query model; ':memory:' keeps it in memory. */
  storePath: string
  /** How often pending rows are written. */
  flushIntervalMs: number
  /** Pending rows above this are written at once (next tick) instead of waiting for the interval. */
  batchRowsMax: number
}

export const PROJECTOR_DEFAULTS = { flushIntervalMs: 100, batchRowsMax: 5_000 } as const

export interface ProjectorStats {
  appliedLsn: number
  storedLsn: number
  walLastLsn: number
  lagRecords: number
  pendingRows: number
  batchesWritten: number
  rebuiltStore: boolean
  startedFromLsn: number
  /**
   * False when the log no longer starts at LSN 1 (compacted): the ledger is rebuilt by replaying the whole log, and
   * ledger snapshots are not implemented yet, so its figures would miss the compacted history.
   */
  ledgerComplete: boolean
}

export class Projector {
  readonly ledger: LedgerState = initialLedger()
  readonly breaks = new BreakBook()
  readonly store: Store
  private readonly engine: Engine
  private readonly clock: Clock
  private readonly options: ProjectorOptions
  private pendingPostings: Posting[] = []
  private pendingFills: FillRecord[] = []
  private readonly dirtyPositions = new Set<Position>()
  private readonly writtenBalances = new Map<string, string>()
  /** LSNs of domain frames durable but not yet delivered by the engine, oldest first. */
  private readonly undelivered: number[] = []
  private committed: { lsn: number; hash: string }
  private flushCancel: (() => void) | null = null
  private readonly unsubscribes: (() => void)[] = []
  private closed = false
  readonly rebuiltStore: boolean
  readonly startedFromLsn: number
  readonly ledgerComplete: boolean

  private constructor(options: ProjectorOptions, store: Store, rebuilt: boolean) {
    this.options = options
    this.engine = options.engine
    this.clock = options.clock
    this.store = store
    this.rebuiltStore = rebuilt
    this.startedFromLsn = store.lastLsn
    this.ledgerComplete = options.engine.wal.firstLsn <= 1
    this.committed = { lsn: options.engine.wal.lastLsn, hash: toHex(options.engine.wal.chainHead) }
  }

  /** Opens the store, replays the log into the ledger, writes what the store lacks, then follows the engine. */
  static open(options: ProjectorOptions): Projector {
    const store = Store.open(options.storePath)
    const rebuilt = !storeMatchesLog(store, options.engine)
    if (rebuilt) store.reset()
    const projector = new Projector(options, store, rebuilt)
    projector.catchUp()
    projector.follow()
    projector.flush()
    return projector
  }

  /** Every record up to this LSN is in the ledger. */
  get appliedLsn(): number {
    return this.undelivered.length === 0 ? this.committed.lsn : (this.undelivered[0] as number) - 1
  }

  get pendingRows(): number {
    return this.pendingPostings.length + this.pendingFills.length
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
    }
  }

  /**
   * Writes pending rows, positions and balances with the position they reflect, in one transaction. Skipped (and
   * retried on the next tick) in the instant between a commit and the engine delivering it.
   */
  flush(): boolean {
    if (this.closed) return false
    const lsn = this.appliedLsn
    if (this.undelivered.length > 0 || lsn < this.store.lastLsn) return false
    if (lsn === this.store.lastLsn && this.pendingRows === 0 && this.dirtyPositions.size === 0) return true
    assert(lsn === this.committed.lsn, 'the projector flushes only at a committed batch end')
    this.store.write({
      lastLsn: lsn,
      lastHash: this.committed.hash,
      postings: this.pendingPostings,
      fills: this.pendingFills,
      positions: [...this.dirtyPositions],
      balances: this.changedBalances(),
    })
    this.pendingPostings = []
    this.pendingFills = []
    this.dirtyPositions.clear()
    return true
  }

  /** Applies a back-office record this process appended, once durable (the commit listener skips them). */
  noteOwnRecords(records: readonly { lsn: number; record: BackOfficeRecord }[]): void {
    for (const { lsn, record } of records) this.breaks.apply(record, lsn)
  }

  /** Stops following. `flush: false` writes nothing more — what a crash leaves behind (crash tests use it). */
  close(options: { flush: boolean } = { flush: true }): void {
    if (this.closed) return
    if (options.flush) this.flush()
    this.closed = true
    this.flushCancel?.()
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
    this.store.close()
  }

  /** Balances as the ledger holds them now: per account × asset, total and reserved. */
  balanceRows(): BalanceRow[] {
    const rows = new Map<string, BalanceRow>()
    const row = (accountId: string, asset: string): BalanceRow => {
      const key = `${accountId}\n${asset}`
      let found = rows.get(key)
      if (found === undefined) {
        found = { accountId, asset, total: 0n, reserved: 0n }
        rows.set(key, found)
      }
      return found
    }
    for (const [book, assets] of this.ledger.books) {
      if (!book.startsWith('acct:')) continue
      for (const [asset, total] of assets) row(book.slice('acct:'.length), asset).total = total
    }
    for (const [accountId, assets] of this.ledger.reserved) for (const [asset, held] of assets) row(accountId, asset).reserved = held
    return [...rows.values()].sort((a, b) => (a.accountId === b.accountId ? compare(a.asset, b.asset) : compare(a.accountId, b.accountId)))
  }

  private catchUp(): void {
    const wal = this.engine.wal
    const resumeAfter = this.store.lastLsn
    for (const frame of wal.read(wal.firstLsn)) {
      if (isBackOfficeRecord(frame.type)) {
        const record = decodeBackOfficeRecord(frame)
        if (record !== null) this.breaks.apply(record, frame.lsn)
        continue
      }
      if (isAuditRecord(frame.type)) continue
      const event = domainEventOf(frame)
      if (event === null) continue
      const booked = applyEvent(this.ledger, event, frame.lsn)
      // Rows the store already holds are not written again: the LSN says where it stopped.
      if (frame.lsn > resumeAfter) this.keep(booked)
    }
    for (const position of this.ledger.positions.values()) if (position.lastLsn > resumeAfter) this.dirtyPositions.add(position)
    for (const row of this.store.balances()) this.writtenBalances.set(balanceKey(row), balanceValue(row))
  }

  private follow(): void {
    const scannedTo = this.engine.wal.lastLsn
    this.unsubscribes.push(
      this.engine.wal.subscribe((batch) => {
        for (const frame of batch.frames) if (!isAuditRecord(frame.type)) this.undelivered.push(frame.lsn)
        const last = batch.frames[batch.frames.length - 1]
        this.committed = { lsn: batch.lastLsn, hash: last === undefined ? this.committed.hash : toHex(last.hash) }
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

  private deliver(event: DomainEvent, lsn: number): void {
    const expected = this.undelivered.shift()
    assert(expected === lsn, `back office expected LSN ${expected} from the engine, got ${lsn}`)
    this.keep(applyEvent(this.ledger, event, lsn))
    if (this.pendingRows >= this.options.batchRowsMax) this.scheduleFlush(0)
  }

  private keep(booked: Booked): void {
    if (booked.postings.length > 0) this.pendingPostings.push(...booked.postings)
    if (booked.fill !== null) {
      this.pendingFills.push(booked.fill)
      const position = this.ledger.positions.get(positionKey(booked.fill.accountId, booked.fill.venue, booked.fill.symbol))
      assert(position !== undefined, `fill ${booked.fill.execId} booked without a position`)
      this.dirtyPositions.add(position)
    }
  }

  private scheduleFlush(delayMs: number): void {
    if (this.closed) return
    this.flushCancel?.()
    this.flushCancel = this.clock.schedule(delayMs, () => {
      this.flushCancel = null
      this.flush()
      this.scheduleFlush(this.options.flushIntervalMs)
    })
  }

  private changedBalances(): BalanceRow[] {
    const changed: BalanceRow[] = []
    for (const row of this.balanceRows()) {
      const key = balanceKey(row)
      const value = balanceValue(row)
      if (this.writtenBalances.get(key) === value) continue
      this.writtenBalances.set(key, value)
      changed.push(row)
    }
    return changed
  }
}

/** The store matches the log when its position exists in the log and the record there has the hash it remembers. */
function storeMatchesLog(store: Store, engine: Engine): boolean {
  if (store.lastLsn === 0) return true
  const wal = engine.wal
  if (store.lastLsn > wal.lastLsn || store.lastLsn < wal.firstLsn) return false
  for (const frame of wal.read(store.lastLsn, { toLsn: store.lastLsn })) {
    return hashesEqual(frame.hash, fromHex(store.lastHash))
  }
  return false
}

function balanceKey(row: BalanceRow): string {
  return `${row.accountId}\n${row.asset}`
}

function balanceValue(row: BalanceRow): string {
  return `${row.total}/${row.reserved}`
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** What an account holds of `asset` according to the ledger (convenience for views and reconcile). */
export function ledgerBalance(ledger: LedgerState, accountId: string, asset: string): Units {
  return ledger.books.get(accountBook(accountId))?.get(asset) ?? 0n
}
