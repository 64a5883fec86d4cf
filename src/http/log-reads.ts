/**
 * Reading given records of the log by LSN: the log index (log-index.ts) knows where an order's records are; this reads
 * them, scanning a run of nearby LSNs in one pass rather than seeking to each.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import { domainEventOf } from '../runtime/records.ts'
import type { Frame, Wal } from '../../wal/index.ts'

/** Gaps wider than this between two wanted LSNs start a new read instead of scanning the frames in between. */
const READ_GAP_FRAMES_MAX = 256

export interface LoggedEvent {
  lsn: number
  event: DomainEvent
}

/**
 * Whether an order's history read from its first position (`firstPosition`, the index's; `first`, the first record
 * read) lacks its start: an order's first record is its intake (`order.accepted` or `order.rejected`: no other record
 * names it before), so when the log no longer holds that position (compacted, not yet forgotten by the index) or the
 * first position left is a later record (forgotten), the history shown is not the whole (/explain, /events).
 *
 * A limit: a key retried after a retryable rejection is decided again under the same order id, so when compaction
 * removed some of its rejections and kept the rest (or its acceptance), the first record left is still an intake, and
 * once the index forgot the removed positions (at once after a restart) the history reads as whole. Nothing retained
 * says earlier rejections came first; saying it would take a record that names them (a persisted format change).
 */
export function historyCompacted(first: LoggedEvent | undefined, firstPosition: number | undefined): boolean {
  return first === undefined || first.lsn !== firstPosition || (first.event.type !== 'order.accepted' && first.event.type !== 'order.rejected')
}

/** Reads the given ascending LSNs from the log, scanning runs of nearby LSNs in one pass. */
export function readLsns(wal: Wal, lsns: readonly number[]): LoggedEvent[] {
  const result: LoggedEvent[] = []
  visitFrames(wal, lsns, (frame) => {
    const event = domainEventOf(frame)
    if (event !== null) result.push({ lsn: frame.lsn, event })
  })
  return result
}

/** Hands `visit` the frames of the given ascending LSNs that the log still holds, scanning runs of nearby LSNs in one pass. */
export function visitFrames(wal: Wal, lsns: readonly number[], visit: (frame: Frame) => void): void {
  const wanted = lsns.filter((lsn) => lsn >= wal.firstLsn && lsn <= wal.lastLsn)
  let index = 0
  while (index < wanted.length) {
    const runStart = wanted[index] as number
    let runEnd = runStart
    let next = index + 1
    while (next < wanted.length && (wanted[next] as number) - runEnd <= READ_GAP_FRAMES_MAX) runEnd = wanted[next++] as number
    const inRun = new Set(wanted.slice(index, next))
    for (const frame of wal.read(runStart, { toLsn: runEnd })) {
      if (inRun.has(frame.lsn)) visit(frame)
    }
    index = next
  }
}
