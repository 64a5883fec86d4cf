/**
 * The independent ledger reconcile compares the live one with: folded from the log alone (genesis, or the snapshot
 * section the back office started from on a compacted log), never copied from the projector. It lives in the replay
 * worker (replay-worker.ts, a thread with its own heap), which reads the log's files itself and is kept close to the
 * log's head between reconcile runs (replay-follower.ts), so a reconcile neither holds the event loop nor grows with
 * the whole log.
 *
 * Events are decoded with the trusted decoder (no re-validation; see src/domain/events/trusted-decode.ts), without
 * the members the fold never reads (fold-unread.ts): the frames are this program's own records in its live log,
 * CRC-checked on read, and the check is about the fold, not the schemas. A record it cannot decode still throws.
 *
 * It does not fold the engine's applied events (Engine.onDurable) even when it is caught up with the log, though that
 * would spare the read and decode: those are the very objects the projector folds, so ledger_vs_replay would compare
 * a ledger with itself. Reading the records back is what makes the check see an event the log does not hold as the
 * engine applied it (an encoding that loses or changes a member the fold reads, an event object changed after it was
 * encoded) — the live process's only check of that; restart would otherwise be the first to notice, with a
 * different ledger.
 */

import type { Frame } from '../../wal/index.ts'
import { isAuditRecord } from '../runtime/records.ts'
import { isBackOfficeRecord } from './breaks.ts'
import { foldEventOf } from './fold-unread.ts'
import { initialLedger, type LedgerState } from './ledger-state.ts'
import { applyEvent } from './ledger.ts'

/** The part of a log the fold reads: the writable log (Wal) or a slice of it read from another thread (wal/slice.ts). */
export interface FoldSource {
  readonly firstLsn: number
  read(fromLsn: number, options: { toLsn: number }): Generator<Frame>
}

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
  continuesIn(wal: FoldSource): boolean {
    return this.state !== null && wal.firstLsn <= this.folded + 1
  }

  /** Folds up to `toLsn`. 'gap' when a compaction removed records not yet folded (see FoldOutcome). */
  foldTo(wal: FoldSource, toLsn: number): FoldOutcome {
    if (this.folded >= toLsn) return 'done'
    if (!this.continuesIn(wal)) return this.stop()
    const frames = wal.read(this.folded + 1, { toLsn })
    try {
      if (this.fold(frames) === 'gap') return this.stop()
      return this.endedAt(wal, toLsn)
    } finally {
      frames.return(undefined)
    }
  }

  /**
   * The reader ended quietly before `toLsn`: either the log holds no more (durable end), or the segment it was to read
   * next was removed under it — a hole if the log no longer continues what was folded.
   */
  private endedAt(wal: FoldSource, toLsn: number): FoldOutcome {
    if (this.folded < toLsn && !this.continuesIn(wal)) return this.stop()
    return 'done'
  }

  private stop(): 'gap' {
    this.state = null
    return 'gap'
  }

  private fold(frames: Iterator<Frame>): 'done' | 'gap' {
    const ledger = this.ledger
    for (let next = frames.next(); next.done !== true; next = frames.next()) {
      const frame = next.value
      // The reader clamps its start to the log's first LSN and ends quietly at a segment removed mid-read.
      if (frame.lsn !== this.folded + 1) return 'gap'
      if (!isBackOfficeRecord(frame.type) && !isAuditRecord(frame.type) && frame.lsn > ledger.lastLsn) {
        const event = foldEventOf(frame)
        if (event !== null) applyEvent(ledger, event, frame.lsn)
      }
      this.folded = frame.lsn
    }
    return 'done'
  }
}
