/**
 * Which of an order's records `GET /v1/orders/:id/explain` shows, so that its answer is bounded whatever the order's
 * history (a trader amending one resting order at the allowed rate for days gives it tens of thousands of records):
 *
 * - decisions: the first decision (the intake) and the acceptance if a retried rejection came first, then the most
 *   recent DECISIONS_RECENT_MAX; the number left out between them is `decisionsOmitted`.
 * - story: the first record (the intake) and the most recent STORY_RECENT_MAX; the number left out is `storyOmitted`.
 *
 * `/events` pages through the whole history. What an explain costs: the positions come from the log index (its list of
 * the order's records, and its list of the order's decisions after the intake); the intake is found by reading frame
 * headers from the first record up to the acceptance (rejections of a retried key, usually none); then one read of the
 * records it shows. Bounded by what it shows, not by the history.
 *
 * An order's first record is its intake (`order.accepted` or `order.rejected`: no other record names an order before
 * it). When the log no longer holds it — an order resting across a snapshot has its start compacted away while the
 * kernel still holds it — the excerpt says so (`compacted`) rather than pass what is left for the whole story.
 */

import type { LoggedEvent, LogIndex } from '../log-index.ts'
import { historyCompacted } from '../log-reads.ts'

/** Decisions shown besides the intake: the most recent ones. */
export const DECISIONS_RECENT_MAX = 100
/** Story entries shown besides the first record: the most recent ones. */
export const STORY_RECENT_MAX = 200

export interface ExplainExcerpt {
  /** Every record shown (as a decision, a story entry or both), in log order. */
  events: LoggedEvent[]
  decisionLsns: ReadonlySet<number>
  storyLsns: ReadonlySet<number>
  decisionsOmitted: number
  storyOmitted: number
  /** The order's first records are no longer in the log (compaction): the story starts after them. */
  compacted: boolean
}

/** What an excerpt reads of the log index. */
export type ExcerptSource = Pick<LogIndex, 'positionsOf' | 'decisionPositionsOf' | 'read' | 'firstLsn'>

export function explainExcerpt(logIndex: ExcerptSource, orderId: string): ExplainExcerpt {
  const positions = logIndex.positionsOf(orderId)
  // Positions below the log's first LSN (compacted, not yet forgotten by the index: that waits for the next durable
  // batch) have no record to read: chosen as the first story entry, the story showed one entry fewer, and counted in
  // the omitted numbers, they were "left out" though `compacted` already says they are gone.
  const retained = retainedFrom(positions, logIndex.firstLsn)
  const storyLsns = new Set<number>(retained.slice(0, 1))
  for (const lsn of retained.slice(Math.max(1, retained.length - STORY_RECENT_MAX))) storyLsns.add(lsn)

  // The intake is found from the first position the log holds (log-index-intake.ts); the later decisions are not.
  const decisions = logIndex.decisionPositionsOf(orderId)
  const { intake, acceptedLsn } = decisions
  const later = retainedFrom(decisions.later, logIndex.firstLsn)
  // The intake: the first decision, and the acceptance if rejections of a retried key came first; then the latest.
  const decisionLsns = new Set<number>(intake.slice(0, 1))
  if (acceptedLsn !== null) decisionLsns.add(acceptedLsn)
  const recentLater = later.slice(-DECISIONS_RECENT_MAX)
  // The most recent decisions: the later ones, and the last of the intake's when fewer than the bound came later.
  const intakeRecent = DECISIONS_RECENT_MAX - recentLater.length
  if (intakeRecent > 0) for (const lsn of intake.slice(-intakeRecent)) decisionLsns.add(lsn)
  for (const lsn of recentLater) decisionLsns.add(lsn)

  const shown = [...new Set([...storyLsns, ...decisionLsns])].sort((a, b) => a - b)
  const events = logIndex.read(shown)
  // The first retained position is shown, so it is the first record read; judged against the index's first position:
  // when the log no longer holds that one (not yet forgotten by the index) they differ, and once forgotten, the first
  // position left is a later record, not the intake.
  return {
    events,
    compacted: historyCompacted(events[0], positions[0]),
    decisionLsns,
    storyLsns,
    decisionsOmitted: intake.length + later.length - decisionLsns.size,
    storyOmitted: retained.length - storyLsns.size,
  }
}

/** The ascending `lsns` at or above `firstLsn`: the ones the log still holds. */
function retainedFrom(lsns: readonly number[], firstLsn: number): readonly number[] {
  const first = lsns.findIndex((lsn) => lsn >= firstLsn)
  return first === -1 ? [] : lsns.slice(first)
}
