import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventType } from '../../src/domain/events/index.ts'
import type { LoggedEvent } from '../../src/http/log-index.ts'
import { DECISIONS_RECENT_MAX, explainExcerpt, STORY_RECENT_MAX, type ExcerptSource } from '../../src/http/routes/explain-excerpt.ts'

const LATER: ReadonlySet<EventType> = new Set(['order.amend_requested', 'order.amend_rejected', 'order.resend_requested', 'order.resend_refused'])

/**
 * An order's records as types at LSNs 1, 2, 3, …; read() hands back stand-ins carrying the type only, of those at or
 * above the log's first LSN (`firstLsn`, 1 unless given: below it, compacted but still held by the index).
 */
function source(types: readonly EventType[], firstLsn = 1): ExcerptSource & { readLsns: number[][] } {
  const lsns = types.map((_, index) => index + 1)
  const readLsns: number[][] = []
  return {
    readLsns,
    firstLsn,
    positionsOf: () => lsns,
    decisionPositionsOf: () => {
      const intake: number[] = []
      let acceptedLsn: number | null = null
      for (const lsn of lsns.filter((lsn) => lsn >= firstLsn)) {
        const type = types[lsn - 1]
        if (type !== 'order.rejected' && type !== 'order.accepted') break
        intake.push(lsn)
        if (type === 'order.accepted') {
          acceptedLsn = lsn
          break
        }
      }
      const later = lsns.filter((lsn) => LATER.has(types[lsn - 1] as EventType))
      return { intake, acceptedLsn, later }
    },
    read: (wanted) => {
      readLsns.push([...wanted])
      return wanted.filter((lsn) => lsn >= firstLsn).map((lsn): LoggedEvent => ({ lsn, event: { type: types[lsn - 1] } as DomainEvent }))
    },
  }
}

describe('explain excerpt', () => {
  test('a short history is shown whole: nothing omitted', () => {
    const types: EventType[] = ['order.accepted', 'order.send_requested', 'order.send_acked', 'order.amend_rejected']
    const excerpt = explainExcerpt(source(types), 'o')
    expect([...excerpt.decisionLsns].sort((a, b) => a - b)).toEqual([1, 4])
    expect([...excerpt.storyLsns].sort((a, b) => a - b)).toEqual([1, 2, 3, 4])
    expect({ decisions: excerpt.decisionsOmitted, story: excerpt.storyOmitted, compacted: excerpt.compacted }).toEqual({ decisions: 0, story: 0, compacted: false })
  })

  test('compacted: the first position no longer read, or the first record left not the intake', () => {
    const types: EventType[] = ['order.accepted', 'order.send_requested', 'order.send_acked', 'order.cancel_requested']
    // LSN 1 below the log's first: the index still has its position, the log no longer the record.
    expect(explainExcerpt(source(types, 2), 'o').compacted).toBe(true)
    // Forgotten by the index too: the first position left is a later record.
    const forgotten = source(types)
    forgotten.positionsOf = () => [2, 3, 4]
    forgotten.decisionPositionsOf = () => ({ intake: [], acceptedLsn: null, later: [] })
    expect(explainExcerpt(forgotten, 'o').compacted).toBe(true)
  })

  test('rejections of a retried key before its acceptance: the first rejection and the acceptance stay, however many amends follow', () => {
    const rejectedRetries: EventType[] = Array(5).fill('order.rejected')
    const amends: EventType[] = Array(3 * DECISIONS_RECENT_MAX).fill('order.amend_rejected')
    const src = source([...rejectedRetries, 'order.accepted', 'order.send_requested', ...amends])
    const excerpt = explainExcerpt(src, 'o')
    const total = rejectedRetries.length + 1 + amends.length + 1
    const decisions = [...excerpt.decisionLsns].sort((a, b) => a - b)
    // LSN 1 (the first rejection), LSN 6 (the acceptance), then the last N amends.
    expect(decisions).toEqual([1, 6, ...Array.from({ length: DECISIONS_RECENT_MAX }, (_, index) => total - DECISIONS_RECENT_MAX + 1 + index)])
    expect(excerpt.decisionsOmitted).toBe(rejectedRetries.length + 1 + amends.length - decisions.length)
    expect(excerpt.storyLsns.size).toBe(1 + STORY_RECENT_MAX)
    expect(excerpt.storyOmitted).toBe(total - 1 - STORY_RECENT_MAX)
    // One read, of the records shown only.
    expect(src.readLsns).toHaveLength(1)
    expect(src.readLsns[0]?.length).toBe(new Set([...excerpt.decisionLsns, ...excerpt.storyLsns]).size)
  })

  test('compacted, not yet forgotten by the index: the story and the decisions start at the first record the log holds, and count only those as left out', () => {
    const removedAmends: EventType[] = Array(10).fill('order.amend_rejected')
    const retainedAmends: EventType[] = Array(STORY_RECENT_MAX + 10).fill('order.amend_rejected')
    const types: EventType[] = ['order.accepted', 'order.send_requested', 'order.send_acked', ...removedAmends, ...retainedAmends]
    // The log's first LSN is the first retained amend's: the intake, its send and the first amends are gone.
    const firstLsn = 3 + removedAmends.length + 1
    const excerpt = explainExcerpt(source(types, firstLsn), 'o')
    const story = [...excerpt.storyLsns].sort((a, b) => a - b)
    // The first record the log holds, then the latest STORY_RECENT_MAX: none of them a removed position.
    expect(story).toEqual([firstLsn, ...Array.from({ length: STORY_RECENT_MAX }, (_, index) => types.length - STORY_RECENT_MAX + 1 + index)])
    expect(excerpt.events.filter(({ lsn }) => excerpt.storyLsns.has(lsn))).toHaveLength(1 + STORY_RECENT_MAX)
    expect(excerpt.storyOmitted).toBe(retainedAmends.length - 1 - STORY_RECENT_MAX)
    // The latest DECISIONS_RECENT_MAX amends; the retained ones before them are left out, the removed ones are not counted.
    expect(excerpt.decisionLsns.size).toBe(DECISIONS_RECENT_MAX)
    expect(excerpt.decisionsOmitted).toBe(retainedAmends.length - DECISIONS_RECENT_MAX)
    expect(excerpt.compacted).toBe(true)
  })
})
