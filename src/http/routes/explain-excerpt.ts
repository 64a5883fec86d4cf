/**
 * Which of an order's records `GET /v1/orders/:id/explain` shows, so that its answer is bounded whatever the order's
 * history (a trader amending one resting order at the allowed rate for days gives it tens of thousands of records):
 *
 * - decisions: the first decision (the intake) and the acceptance if a retried rejection came first, then the most
 *   recent DECISIONS_RECENT_MAX; the number left out between them is `decisionsOmitted`.
 * - story: the first record (the intake) and the most recent STORY_RECENT_MAX; the number left out is `storyOmitted`.
 *
 * `/events` pages through the whole history. What an explain costs: one walk of the order's frame headers (type codes
 * only, no payload decoded, nothing kept but the counts and the positions shown) to find its decisions, and one read of
 * the records it shows — memory bounded by what it shows, not by the history.
 */

import { eventCode, type EventType } from '../../domain/events/index.ts'
import type { LoggedEvent, LogIndex } from '../log-index.ts'

/** Decisions shown besides the intake: the most recent ones. */
export const DECISIONS_RECENT_MAX = 100
/** Story entries shown besides the first record: the most recent ones. */
export const STORY_RECENT_MAX = 200

const DECISION_TYPES: readonly EventType[] = ['order.accepted', 'order.rejected', 'order.amend_requested', 'order.amend_rejected', 'order.resend_refused']
const DECISION_CODES: ReadonlySet<number> = new Set(DECISION_TYPES.map(eventCode))
const ACCEPTED_CODE = eventCode('order.accepted')

export interface ExplainExcerpt {
  /** Every record shown (as a decision, a story entry or both), in log order. */
  events: LoggedEvent[]
  decisionLsns: ReadonlySet<number>
  storyLsns: ReadonlySet<number>
  decisionsOmitted: number
  storyOmitted: number
}

/** What an excerpt reads of the log index. */
export type ExcerptSource = Pick<LogIndex, 'positionsOf' | 'visitTypes' | 'read'>

export function explainExcerpt(logIndex: ExcerptSource, orderId: string): ExplainExcerpt {
  const positions = logIndex.positionsOf(orderId)
  const storyLsns = new Set<number>(positions.slice(0, 1))
  for (const lsn of positions.slice(Math.max(1, positions.length - STORY_RECENT_MAX))) storyLsns.add(lsn)

  const head: number[] = []
  let accepted = false
  const recent: number[] = []
  let decisionCount = 0
  logIndex.visitTypes(orderId, (lsn, typeCode) => {
    if (!DECISION_CODES.has(typeCode)) return
    decisionCount++
    // The intake: the first decision, and the acceptance if rejections of a retried key came first.
    if (head.length === 0 || (!accepted && typeCode === ACCEPTED_CODE)) {
      head.push(lsn)
      accepted = typeCode === ACCEPTED_CODE
      return
    }
    recent.push(lsn)
    // Trimmed to the bound once it holds twice as many, not shifted one by one: amortised O(1) per decision.
    if (recent.length >= 2 * DECISIONS_RECENT_MAX) recent.splice(0, recent.length - DECISIONS_RECENT_MAX)
  })
  const tail = recent.slice(-DECISIONS_RECENT_MAX)
  const decisionLsns = new Set<number>([...head, ...tail])

  const shown = [...new Set([...storyLsns, ...decisionLsns])].sort((a, b) => a - b)
  return {
    events: logIndex.read(shown),
    decisionLsns,
    storyLsns,
    decisionsOmitted: decisionCount - decisionLsns.size,
    storyOmitted: positions.length - storyLsns.size,
  }
}
