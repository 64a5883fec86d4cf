/**
 * One log frame into the back office's in-memory projections — the ledger (domain events) and the break book (its
 * own records) — skipping what either already holds, so the same fold serves the start-up catch-up, the snapshot's
 * copy brought forward to the snapshot LSN, and the offline rebuild replay-verify compares with.
 */

import type { Frame } from '../../wal/index.ts'
import { domainEventOf, isAuditRecord } from '../runtime/records.ts'
import { decodeBackOfficeRecord, isBackOfficeRecord, type BreakBook } from './breaks.ts'
import type { Booked, LedgerState } from './ledger-state.ts'
import { applyEvent } from './ledger.ts'

export function foldFrame(ledger: LedgerState, breaks: BreakBook, frame: Frame): Booked | null {
  if (isBackOfficeRecord(frame.type)) {
    if (frame.lsn <= breaks.lastLsn) return null
    const record = decodeBackOfficeRecord(frame)
    if (record !== null) breaks.apply(record, frame.lsn)
    return null
  }
  if (isAuditRecord(frame.type) || frame.lsn <= ledger.lastLsn) return null
  const event = domainEventOf(frame)
  return event === null ? null : applyEvent(ledger, event, frame.lsn)
}

/** A deep copy of the break book (a snapshot brings it forward while the live one moves on). */
export function copyBreaks(breaks: BreakBook, into: BreakBook): BreakBook {
  for (const [key, open] of breaks.open) into.open.set(key, { ...open })
  into.lastRun = breaks.lastRun === null ? null : structuredClone(breaks.lastRun)
  into.openedTotal = breaks.openedTotal
  into.clearedTotal = breaks.clearedTotal
  into.lastLsn = breaks.lastLsn
  return into
}
