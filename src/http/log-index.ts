/**
 * Which log records belong to which order: orderId → the LSNs of its events, oldest first. Kept current from the
 * engine's durable events; `GET /v1/orders/:id/events`, `/explain`, rejected- and retired-order lookups read the log
 * through it, so the log stays the only store of what happened; this holds only positions.
 *
 * Start-up is bounded: the newest `syncFramesMax` records are indexed before the first request (payloads parsed just
 * far enough to read their `orderId`); everything older is indexed in the background, `backgroundFramesPerSlice` at a
 * time between event-loop turns. Until that finishes (`complete`), reads of an order's history answer 503 UNAVAILABLE
 * with Retry-After rather than a partial story, as does a repeat of a retired order's key (its answer is read from the log).
 *
 * Bound: one number per order event, for every order in the retained log (kept in typed arrays, log-index-lsns.ts: no
 * heap cell per order for the collector to mark), and one more per decision after an order's intake (amends accepted
 * or refused, resends allowed or refused: `/explain` finds its latest decisions there without a read), and one per record
 * that may carry a venue's refusal (`GET /v1/orders/:id` finds the latest without reading the order's history). Compaction
 * (which drops old segments) is the bound, as for the log itself. Plus the account of each order the kernel held when the index was built or has
 * accepted since (`accounts`), one entry per order like the positions.
 *
 * Compaction is the bound in a running process too: once the log's first LSN has moved (seen at the next durable
 * batch), a walk forgets what pointed only below it (log-index-forget.ts), in slices of `forgetSliceMs` within a
 * quarter of the event loop: a million orders is a walk of about a second, and it must not hold intake for that long.
 */

import { eventCode, orderIdOfRecord } from '../domain/events/index.ts'
import type { Engine } from '../runtime/engine.ts'
import { isAuditRecord } from '../runtime/records.ts'
import { ApiError } from './errors.ts'
import type { Wal } from '../../wal/index.ts'
import { GenerationalMap } from '../domain/generational-map.ts'
import { forgetBelow } from './log-index-forget.ts'
import { intakeRetained, intakeSpanOf, type IntakeSpan } from './log-index-intake.ts'
import { AccountSwitchPositions } from './log-index-switches.ts'
import { LATER_DECISION_CODES, noPositions, VENUE_REFUSAL_CODES, type Positions } from './log-index-positions.ts'
import { historyCompacted, readLsns, type LoggedEvent } from './log-reads.ts'
import { loopSharePause, type LoopShareOptions } from '../runtime/loop-share.ts'
import { WORK_SLICE_DEFAULTS, WorkSlices } from '../runtime/work-slices.ts'

export type { LoggedEvent } from './log-reads.ts'

export interface LogIndexOptions {
  /** Records indexed before the first request (the newest ones); older ones are indexed in the background. */
  syncFramesMax?: number
  /** Records indexed per background slice (one event-loop turn each). */
  backgroundFramesPerSlice?: number
  /** The longest one slice of forgetting what compaction removed holds the event loop. */
  forgetSliceMs?: number
  /** Awaited between two slices of forgetting (default: a pause keeping it within FORGET_LOOP_SHARE of the loop). */
  forgetPause?: () => Promise<void>
  /** The clock forgetting's slices are timed by (default performance.now). */
  nowMs?: () => number
}

/** Forgetting what compaction removed is housekeeping: it may hold a quarter of the loop at most. */
const FORGET_LOOP_SHARE: LoopShareOptions = { shareMax: 0.25, waitMsMax: 50 }

/** How much the index holds: orders with positions, with later decisions, with venue refusals, with a known account. */
export interface LogIndexEntryCounts {
  orders: number
  laterDecisions: number
  venueRefusals: number
  accounts: number
}

export const LOG_INDEX_SYNC_FRAMES_MAX_DEFAULT = 50_000
const BACKGROUND_FRAMES_PER_SLICE_DEFAULT = 20_000

export class LogIndex {
  private positions = noPositions()
  /**
   * orderId → accountId of every order the kernel held when the index was built or accepted or rejected since. An order resting
   * across a snapshot can have its `order.accepted` compacted away while the kernel holds it; once it ends and is
   * retired, its last events (cancel, fill) name only the order, and accountOf, reading the account from the intake
   * record, found none: a resumed account stream left them out without a word (specs/http/sse-retired-compacted). For
   * orderAccountOf only: accountOf still reads the log, which is what the order list's cursors are judged by.
   */
  private readonly accounts = new GenerationalMap<string, string>()
  /** Each account's latest account.switch_changed (log-index-switches.ts): GET /v1/auto_stop reads who stopped it from it. */
  private readonly switches = new AccountSwitchPositions()
  /** Positions found by the background scan (all older than any in positions), merged in when it completes. */
  private older: Positions | null = null
  private readonly wal: Wal
  private readonly engine: Engine
  private unsubscribe: (() => void) | null = null
  private backgroundCancelled = false
  private completeFlag = true
  private readonly completeWaiters: (() => void)[] = []
  /** Everything below this LSN is forgotten (or was never indexed): the log's first LSN when the last walk started. */
  private forgottenBelowLsn: number
  /** The walk forgetting what compaction removed, while one runs (one at a time; it starts again if the log moved on). */
  private forgetting: Promise<void> | null = null
  private readonly forgetSlices: () => WorkSlices

  private constructor(engine: Engine, options: LogIndexOptions) {
    this.engine = engine
    this.wal = engine.wal
    this.forgottenBelowLsn = engine.wal.firstLsn
    const { forgetSliceMs = WORK_SLICE_DEFAULTS.sliceMs, forgetPause, nowMs } = options
    this.forgetSlices = () => new WorkSlices({ sliceMs: forgetSliceMs, pause: forgetPause ?? loopSharePause(FORGET_LOOP_SHARE), ...(nowMs === undefined ? {} : { nowMs }) })
  }

  /** Indexes the newest records now and the rest in the background, then follows the engine. Call before serving. */
  static build(engine: Engine, options: LogIndexOptions = {}): LogIndex {
    const index = new LogIndex(engine, options)
    const wal = engine.wal
    const scannedTo = wal.lastLsn
    const syncFrom = Math.max(wal.firstLsn, scannedTo - (options.syncFramesMax ?? LOG_INDEX_SYNC_FRAMES_MAX_DEFAULT) + 1)
    index.scan(index.positions, syncFrom, scannedTo)
    for (const [orderId, order] of engine.state.orders) index.accounts.set(orderId, order.accountId)
    index.unsubscribe = engine.onDurable((events) => {
      void index.forgetCompacted()
      for (const { event, lsn } of events) {
        if (event.type === 'order.accepted') index.accounts.set(event.orderId, event.accountId)
        // A rejection may name no account (one the request did not give): read from the log then, as before.
        else if (event.type === 'order.rejected' && event.accountId !== null) index.accounts.set(event.orderId, event.accountId)
        // Noted whether or not the scan saw it: a later record wins whichever comes upon it first.
        else if (event.type === 'account.switch_changed') index.switches.note(event.accountId, lsn)
        // The scan already saw what was durable when it ran; listeners may still be delivering those batches.
        if (lsn <= scannedTo) continue
        const orderId = (event as { orderId?: unknown }).orderId
        if (typeof orderId !== 'string') continue
        index.positions.records.append(orderId, lsn)
        const code = eventCode(event.type)
        if (LATER_DECISION_CODES.has(code)) index.positions.laterDecisions.append(orderId, lsn)
        else if (VENUE_REFUSAL_CODES.has(code)) index.positions.venueRefusals.append(orderId, lsn)
      }
    })
    if (syncFrom > wal.firstLsn) index.startBackground(syncFrom - 1, options.backgroundFramesPerSlice ?? BACKGROUND_FRAMES_PER_SLICE_DEFAULT)
    return index
  }

  /** True once every retained record is indexed (at once for a log within syncFramesMax). */
  get complete(): boolean {
    return this.completeFlag
  }

  /** Resolves when the background part is indexed. */
  whenComplete(): Promise<void> {
    if (this.completeFlag) return Promise.resolve()
    return new Promise((resolve) => this.completeWaiters.push(resolve))
  }

  close(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.backgroundCancelled = true
  }

  /** How much the index holds now (falls once what compaction removed is forgotten). */
  get entryCounts(): LogIndexEntryCounts {
    const { records, laterDecisions, venueRefusals } = this.positions
    return { orders: records.size, laterDecisions: laterDecisions.size, venueRefusals: venueRefusals.size, accounts: this.accounts.size }
  }

  /**
   * Starts forgetting what pointed only below the log's first LSN, if it moved since the last time (compaction), in
   * slices; called at every durable batch. Resolves when the index holds nothing below the first LSN it saw (at once
   * when it already did). While the background scan runs, waits for it: the scan itself skips what compaction removed.
   */
  forgetCompacted(): Promise<void> {
    if (this.forgetting !== null) return this.forgetting
    if (this.wal.firstLsn <= this.forgottenBelowLsn || !this.completeFlag || this.unsubscribe === null) return Promise.resolve()
    const forgetting = this.forgetBelow(this.wal.firstLsn).finally(() => {
      this.forgetting = null
    })
    this.forgetting = forgetting
    return forgetting
  }

  /** One walk (log-index-forget.ts), after the durable-batch listener that started it: its waiters resolve after the listeners. */
  private async forgetBelow(firstLsn: number): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve))
    const walked = await forgetBelow(firstLsn, {
      positionLists: [this.positions.records, this.positions.laterDecisions, this.positions.venueRefusals],
      accounts: this.accounts,
      heldByKernel: (orderId) => this.engine.state.orders.has(orderId),
      closed: () => this.unsubscribe === null,
      slices: this.forgetSlices(),
    })
    if (walked) this.forgottenBelowLsn = firstLsn
  }

  has(orderId: string): boolean {
    this.requireComplete(orderId)
    return this.positions.records.has(orderId)
  }

  /** The order's events as recorded, oldest first (only what is durable). */
  events(orderId: string): LoggedEvent[] {
    this.requireComplete(orderId)
    return readLsns(this.wal, this.positions.records.all(orderId))
  }

  /**
   * One page of the order's events: those after LSN `afterLsn` (0 from the start) that the log still holds, `limit`
   * records at most (fewer only when fewer follow), oldest first, and the LSN the next page starts after (the last position this page covered), or null when no record of the
   * order follows. Reads only the page's records (and after a cursor its order's first record's header, below): the
   * positions after the cursor are found by a binary search of the order's list. A record appended while a client
   * pages has a higher LSN than any handed out, so it comes in a later page, once (the list only grows at its end).
   * Every page says whether compaction removed the order's first records (`historyCompacted`): a page after a cursor
   * is read on its own, and the records before it may be gone, whether the client saw them (compacted while it paged)
   * or not (a cursor below the retained log). A page from the order's first position says it from its own read
   * (log-reads.ts historyCompacted), any other from its first record's type (log-index-intake.ts intakeRetained: one
   * frame header), as does one that skipped positions the log no longer holds (its first position is below the log).
   */
  eventsPage(orderId: string, afterLsn: number, limit: number): { events: LoggedEvent[]; nextAfterLsn: number | null; historyCompacted: boolean } {
    this.requireComplete(orderId)
    const records = this.positions.records
    // Positions below the retained log (compaction, not yet forgotten: that waits for the next durable batch) have no
    // record to read: a page starting among them came back short of `limit`, even empty, with a next cursor.
    const start = records.firstAfter(orderId, Math.max(afterLsn, this.wal.firstLsn - 1))
    const page = records.slice(orderId, start, start + limit)
    const more = start + page.length < records.count(orderId)
    const events = readLsns(this.wal, page)
    const compacted = start === 0 ? historyCompacted(events[0], page[0]) : !intakeRetained(orderId, { wal: this.wal, records })
    return { events, nextAfterLsn: more ? (page.at(-1) as number) : null, historyCompacted: compacted }
  }

  /**
   * Whether `lsn` may be where a page of the order's records starts after: the LSN of one of its records, or a position
   * below the retained log (compaction removed everything there, so starting after it skips nothing readable: a
   * cursor handed out before the order's records were compacted still reads on).
   */
  isCursorOf(orderId: string, lsn: number): boolean {
    this.requireComplete(orderId)
    if (lsn < this.wal.firstLsn) return true
    const records = this.positions.records
    const index = records.firstAfter(orderId, lsn) - 1
    return index >= 0 && records.at(orderId, index) === lsn
  }

  /**
   * The log's first LSN. Positions below it were compacted away: the index still holds them until the walk started at
   * the next durable batch forgets them, and reading them finds nothing (/explain trims its excerpt to those at or above it).
   */
  get firstLsn(): number {
    return this.wal.firstLsn
  }

  /** How many records of the order the index holds: positions only (no record is read). */
  recordCountOf(orderId: string): number {
    this.requireComplete(orderId)
    return this.positions.records.count(orderId)
  }

  /** The LSNs of the order's records, oldest first: positions only (no record is read). A copy. */
  positionsOf(orderId: string): readonly number[] {
    this.requireComplete(orderId)
    return this.positions.records.all(orderId)
  }

  /** The LSNs of the order's records that may carry a venue's refusal (VENUE_REFUSAL_CODES), oldest first: no read. */
  venueRefusalPositionsOf(orderId: string): readonly number[] {
    this.requireComplete(orderId)
    return this.positions.venueRefusals.all(orderId)
  }

  /**
   * The account's latest `account.switch_changed` record (the one that engaged or moved a switch in force), or null: none
   * seen — none written, or, until the index is complete after a restart, one among the older records not read yet —
   * or the log no longer holds it (compacted). Unlike an order's history this never answers 503: it is one detail of a read.
   */
  accountSwitchRecord(accountId: string): LoggedEvent | null {
    const lsn = this.switches.latestLsnOf(accountId)
    return lsn === undefined ? null : (readLsns(this.wal, [lsn])[0] ?? null)
  }

  /** The records at these ascending LSNs (ones the log no longer holds are left out). */
  read(lsns: readonly number[]): LoggedEvent[] {
    return readLsns(this.wal, lsns)
  }

  /**
   * Where the order's decisions are: its intake (`intake`: the rejections of a retried key, then its acceptance, if any;
   * found by intakeSpan, no payload decoded) and every later decision (`later`: amends accepted or refused, resends
   * allowed or refused, from the index: no read; a copy).
   */
  decisionPositionsOf(orderId: string): { intake: number[]; acceptedLsn: number | null; later: readonly number[] } {
    this.requireComplete(orderId)
    const { first, end, accepted } = this.intakeSpan(orderId)
    const intake = this.positions.records.slice(orderId, first, accepted ? end + 1 : end)
    return { intake, acceptedLsn: accepted ? (intake.at(-1) as number) : null, later: this.positions.laterDecisions.all(orderId) }
  }

  /** Where the order's intake is among its records (log-index-intake.ts). */
  private intakeSpan(orderId: string): IntakeSpan {
    return intakeSpanOf(orderId, { wal: this.wal, records: this.positions.records })
  }

  /**
   * The record that decided the order's intake: its `order.accepted`, or, if it was never accepted, its latest
   * `order.rejected` (what a repeat of its key answers). Not simply the first record: a key rejected for a retryable
   * reason (overload, stale data) is not remembered, so a retry is decided again under the same order id and may be
   * accepted — its rejections come first, then its acceptance. Null when the log holds no intake record of the order.
   */
  intakeRecord(orderId: string): LoggedEvent | null {
    this.requireComplete(orderId)
    const { first, end, accepted } = this.intakeSpan(orderId)
    // The acceptance, else the latest rejection before the first record that is neither (intakeSpan).
    const at = accepted ? end : end > first ? end - 1 : null
    return at === null ? null : (readLsns(this.wal, [this.positions.records.at(orderId, at) as number])[0] ?? null)
  }

  /**
   * The account of an order this index holds in memory (held at its build, or accepted or rejected since), without
   * reading the log; undefined when it would have to read it. A stranger's lookup is judged by it before any read.
   */
  accountInMemoryOf(orderId: string): string | undefined {
    return this.accounts.get(orderId)
  }

  /**
   * The account an order's events belong to (the SSE streams' lookup): the one it was accepted for (`accounts`,
   * whether or not the log still holds its acceptance), else the one its intake record names (accountOf); null when
   * neither knows the order.
   */
  orderAccountOf(orderId: string): string | null {
    return this.accounts.get(orderId) ?? this.accountOf(orderId)?.accountId ?? null
  }

  /**
   * The account the order's intake record names (intakeRecord), and whether it accepted the order (else rejected it);
   * null when the log holds no intake record of the order or the record names no account.
   */
  accountOf(orderId: string): { accountId: string; accepted: boolean } | null {
    const intake = this.intakeRecord(orderId)?.event
    if (intake === undefined) return null
    const accountId = (intake as { accountId?: unknown }).accountId
    return typeof accountId === 'string' ? { accountId, accepted: intake.type === 'order.accepted' } : null
  }

  private requireComplete(orderId: string): void {
    if (this.completeFlag) return
    throw new ApiError('UNAVAILABLE', 'order history is still being indexed after the restart; retry shortly', {
      headers: { 'Retry-After': '1' },
      details: { order_id: orderId },
    })
  }

  private scan(into: Positions, fromLsn: number, toLsn: number): void {
    if (fromLsn > toLsn) return
    for (const frame of this.wal.read(fromLsn, { toLsn })) {
      if (isAuditRecord(frame.type)) continue
      this.switches.noteFrame(frame)
      const orderId = orderIdOfRecord(frame)
      if (orderId === null) continue
      into.records.append(orderId, frame.lsn)
      if (LATER_DECISION_CODES.has(frame.type)) into.laterDecisions.append(orderId, frame.lsn)
      else if (VENUE_REFUSAL_CODES.has(frame.type)) into.venueRefusals.append(orderId, frame.lsn)
    }
  }

  private startBackground(toLsn: number, framesPerSlice: number): void {
    this.completeFlag = false
    const older = noPositions()
    this.older = older
    let next = this.wal.firstLsn
    const slice = (): void => {
      if (this.backgroundCancelled) return
      // Compaction may have dropped segments meanwhile: what is gone is gone from the history too.
      next = Math.max(next, this.wal.firstLsn)
      const end = Math.min(toLsn, next + framesPerSlice - 1)
      this.scan(older, next, end)
      next = end + 1
      if (next <= toLsn) setImmediate(slice)
      else this.finishBackground()
    }
    setImmediate(slice)
  }

  private finishBackground(): void {
    const older = this.older ?? noPositions()
    older.records.appendAll(this.positions.records)
    older.laterDecisions.appendAll(this.positions.laterDecisions)
    older.venueRefusals.appendAll(this.positions.venueRefusals)
    // The merged index in its place: older positions first, as they were found (a copy without a lookup per order).
    this.positions = older
    this.older = null
    this.completeFlag = true
    for (const resolve of this.completeWaiters.splice(0)) resolve()
    void this.forgetCompacted()
  }
}
