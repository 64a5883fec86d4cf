import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventType } from '../../src/domain/events/index.ts'
import type { LoggedEvent } from '../../src/http/log-index.ts'
import { DECISIONS_RECENT_MAX, explainExcerpt, STORY_RECENT_MAX, type ExcerptSource } from '../../src/http/routes/explain-excerpt.ts'

const LATER: ReadonlySet<EventType> = new Set(['order.amend_requested', 'order.amend_rejected', 'order.resend_requested', 'order.resend_refused'])

/** An order's records as types at LSNs 1, 2, 3, …; read() hands back stand-ins carrying the type only. */
function source(types: readonly EventType[]): ExcerptSource & { readLsns: number[][] } {
  const lsns = types.map((_, index) => index + 1)
  const readLsns: number[][] = []
  return {
    readLsns,
    positionsOf: () => lsns,
    decisionPositionsOf: () => {
      const intake: number[] = []
      let acceptedLsn: number | null = null
      for (const lsn of lsns) {
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
      return wanted.map((lsn): LoggedEvent => ({ lsn, event: { type: types[lsn - 1] } as DomainEvent }))
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
    const gone = source(types)
    const read = gone.read
    // LSN 1 below the log's first: the index still has its position, the log no longer the record.
    gone.read = (wanted) => read(wanted.filter((lsn) => lsn > 1))
    expect(explainExcerpt(gone, 'o').compacted).toBe(true)
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
})
