/**
 * The independent ledger reconcile compares the live one with: folded from the log alone (genesis, or the snapshot
 * section the back office started from on a compacted log), never copied from the projector. It is kept between
 * reconcile runs and folded in slices of bounded time, paced to a share of the event loop, as the log grows
 * (replay-follower.ts); only the few records that arrive while the engine settles are folded synchronously before
 * the comparison. So a reconcile neither freezes the loop nor grows with the whole log.
 *
 * Events are decoded with the trusted decoder (no re-validation; see src/domain/events/trusted-decode.ts), without
 * the members the fold never reads (fold-unread.ts): the frames are this program's own records in its live log,
 * CRC-checked on read, and the check is about the fold, not the schemas. Full validation made the fold ~20 µs per
 * record (bench:http profile), so the replay cost as much CPU as the rest of the order path. A record it cannot decode
 * still throws.
 *
 * It does not fold the engine's applied events (Engine.onDurable) even when it is caught up with the log, though that
 * would spare the read and decode (~70% of its CPU): those are the very objects the projector folds, so
 * ledger_vs_replay would compare a ledger with itself. Reading the records back is what makes the check see an event
 * the log does not hold as the engine applied it (an encoding that loses or changes a member the fold reads, an event
 * object changed after it was encoded) — the live process's only check of that; restart would otherwise be the first
 * to notice, with a different ledger.
 */

import type { Frame, Wal } from '../../wal/index.ts'
import { isAuditRecord } from '../runtime/records.ts'
import { isBackOfficeRecord } from './breaks.ts'
import { foldEventOf } from './fold-unread.ts'
import { applyEvent, initialLedger, type LedgerState } from './ledger.ts'

/** How long one slice may hold the event loop, and how many frames are folded between two looks at the clock. */
export const REPLAY_SLICE_DEFAULTS = { sliceMs: 2, framesPerClockCheck: 16 } as const

export type ReplayBase = { ledger: LedgerState; lsn: number } | 'genesis'

/**
 * 'gap': the log no longer held the record after the last one folded (a compaction removed it before or during the
 * read). Nothing past the hole is folded: the replay is stopped (`started` false, `continuesIn` false) and the caller
 * starts over from a base the log continues, or reports the check skipped.
 */
export type FoldOutcome = 'done' | 'gap'

export class ReplayLedger {
  private state: LedgerState | null = null
  /** The last LSN folded (of any record, not only the domain events that move the ledger). */
  private folded = 0
  private readonly sliceMs: number

  constructor(options: { sliceMs?: number } = {}) {
    this.sliceMs = options.sliceMs ?? REPLAY_SLICE_DEFAULTS.sliceMs
  }

  /** The ledger replayed so far (throws before `start`). */
  get ledger(): LedgerState {
    if (this.state === null) throw new Error('the replay ledger has not started')
    return this.state
  }

  get foldedLsn(): number {
    return this.folded
  }

  get started(): boolean {
    return this.state !== null
  }

  /** Starts over from `base` (the caller gives the ledger away: it is folded into). */
  start(base: ReplayBase): void {
    this.state = base === 'genesis' ? initialLedger() : base.ledger
    this.folded = base === 'genesis' ? 0 : base.lsn
  }

  /** Whether the log still holds every record after the last one folded (a compaction may have removed them). */
  continuesIn(wal: Wal): boolean {
    return this.state !== null && wal.firstLsn <= this.folded + 1
  }

  /**
   * Folds up to `toLsn`, at most `sliceMs` at a time, awaiting `pause` (an event-loop turn) between slices. 'gap' when
   * a compaction removed records not yet folded (see FoldOutcome).
   */
  async advance(wal: Wal, toLsn: number, pause: () => Promise<void>): Promise<FoldOutcome> {
    if (this.folded >= toLsn) return 'done'
    if (!this.continuesIn(wal)) return this.stop()
    // One reader for the whole advance: a reader per slice would read a whole chunk (MiBs) for every slice.
    const frames = wal.read(this.folded + 1, { toLsn })
    try {
      // A slice that ends before its deadline has read all the log holds up to toLsn.
      for (;;) {
        const outcome = this.fold(frames, toLsn, performance.now() + this.sliceMs)
        if (outcome === 'gap') return this.stop()
        if (outcome === 'done') return this.endedAt(wal, toLsn)
        await pause()
      }
    } finally {
      frames.return(undefined)
    }
  }

  /**
   * Folds up to `toLsn` at once: the remainder right before a comparison, where nothing may run in between. 'gap' when
   * a compaction removed records not yet folded (see FoldOutcome).
   */
  foldTo(wal: Wal, toLsn: number): FoldOutcome {
    if (this.folded >= toLsn) return 'done'
    if (!this.continuesIn(wal)) return this.stop()
    const frames = wal.read(this.folded + 1, { toLsn })
    try {
      if (this.fold(frames, toLsn, Number.POSITIVE_INFINITY) === 'gap') return this.stop()
      return this.endedAt(wal, toLsn)
    } finally {
      frames.return(undefined)
    }
  }

  /**
   * The reader ended quietly before `toLsn`: either the log holds no more (durable end), or the segment it was to read
   * next was removed under it — a hole if the log no longer continues what was folded.
   */
  private endedAt(wal: Wal, toLsn: number): FoldOutcome {
    if (this.folded < toLsn && !this.continuesIn(wal)) return this.stop()
    return 'done'
  }

  private stop(): 'gap' {
    this.state = null
    return 'gap'
  }

  private fold(frames: Iterator<Frame>, toLsn: number, deadlineMs: number): 'deadline' | 'done' | 'gap' {
    const ledger = this.ledger
    let sinceClockCheck = 0
    for (let next = frames.next(); next.done !== true; next = frames.next()) {
      const frame = next.value
      // The reader clamps its start to the log's first LSN and skips a segment removed mid-read without a word.
      if (frame.lsn !== this.folded + 1) return 'gap'
      if (!isBackOfficeRecord(frame.type) && !isAuditRecord(frame.type) && frame.lsn > ledger.lastLsn) {
        const event = foldEventOf(frame)
        if (event !== null) applyEvent(ledger, event, frame.lsn)
      }
      this.folded = frame.lsn
      if (++sinceClockCheck >= REPLAY_SLICE_DEFAULTS.framesPerClockCheck) {
        sinceClockCheck = 0
        if (this.folded < toLsn && performance.now() >= deadlineMs) return 'deadline'
      }
    }
    return 'done'
  }
}
