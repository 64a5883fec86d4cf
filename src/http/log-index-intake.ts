/**
 * Where an order's intake is among its records, for the log index (log-index.ts: decisionPositionsOf, intakeRecord):
 * from `first` (its first record the log still holds) up to `end` (its first record from there that is not a
 * rejection), and whether that one is its acceptance. Rejections can only come before the acceptance (a retried key is
 * decided again under the same id until one is accepted) and every other record after it, so `end` is found by a
 * binary search of frame types: O(log n) frame reads. A walk read every rejection: a key retried 5,000 times at the
 * open-order limit made each read of the order hold the event loop ~200 ms.
 */

import type { Wal } from '../../wal/index.ts'
import { eventCode } from '../domain/events/index.ts'
import type { LsnLists } from './log-index-lsns.ts'
import { visitFrames } from './log-reads.ts'

const REJECTED_CODE = eventCode('order.rejected')
const ACCEPTED_CODE = eventCode('order.accepted')

/** An order's intake, as indexes into its list of positions: its rejections at first..end - 1, its acceptance at `end` if `accepted`. */
export interface IntakeSpan {
  first: number
  end: number
  accepted: boolean
}

/** Where the intake of `orderId` is among its positions in `records` (its records read from `wal`: their types only). */
export function intakeSpanOf(orderId: string, of: { wal: Wal; records: LsnLists }): IntakeSpan {
  const { wal, records } = of
  const count = records.count(orderId)
  // Positions below the retained log (compaction, not yet forgotten) have no record to read.
  const first = records.firstAfter(orderId, wal.firstLsn - 1)
  let low = first
  let high = count
  while (low < high) {
    const middle = (low + high) >>> 1
    if (frameTypeAt(wal, records.at(orderId, middle) as number) === REJECTED_CODE) low = middle + 1
    else high = middle
  }
  return { first, end: low, accepted: low < count && frameTypeAt(wal, records.at(orderId, low) as number) === ACCEPTED_CODE }
}

/**
 * Whether the log still holds the order's history from its start: its first position is in the retained log and its
 * record is an intake (`order.accepted` or `order.rejected`: no other record names an order before it). Once the index
 * forgot the positions compaction removed, the first position left is a later record; before, it is below the log's
 * first LSN. One frame header read, whatever the history (log-reads.ts historyCompacted says the same from a read).
 */
export function intakeRetained(orderId: string, of: { wal: Wal; records: LsnLists }): boolean {
  const { wal, records } = of
  const firstPosition = records.at(orderId, 0)
  if (firstPosition === undefined || firstPosition < wal.firstLsn) return false
  const type = frameTypeAt(wal, firstPosition)
  return type === ACCEPTED_CODE || type === REJECTED_CODE
}

/** The record type of the frame at `lsn` (from its header), or null when the log does not hold it. */
function frameTypeAt(wal: Wal, lsn: number): number | null {
  let type: number | null = null
  visitFrames(wal, [lsn], (frame) => {
    type = frame.type
  })
  return type
}
