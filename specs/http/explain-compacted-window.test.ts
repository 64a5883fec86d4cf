/**
 * /explain in the window after a compaction and before the log index forgets what it removed (explain-excerpt.ts). The
 * index drops positions below the log's first LSN only at the next durable batch; until then the excerpt chose among
 * them: its first story entry was the order's first position, a record the log no longer holds, so the story showed
 * one entry fewer, and `storyOmitted` / `decisionsOmitted` counted the removed positions (earlier amends among them) as
 * left out. Now the excerpt starts at the first position the log still holds, and `compacted` says the rest is gone.
 *
 * The window is held deterministically, as in events-compacted-window.test.ts: the log is compacted and the excerpt
 * taken in the same synchronous stretch, so no durable batch (which starts the forgetting walk) can come between them.
 */

import { expect, test } from 'bun:test'
import { DECISIONS_RECENT_MAX, explainExcerpt, STORY_RECENT_MAX } from '../../src/http/routes/explain-excerpt.ts'
import { errorCode, eventually, json, LIMIT_BUY, post } from './fixture.ts'
import { canceledToEnd, compactableGateway, placeOrder, segmentCutAfter } from './order-steps.ts'

const gateway = compactableGateway()
/** Refused amends before the cut (compacted away) and after it (retained): more than the story shows. */
const AMENDS_REMOVED = 10
const AMENDS_RETAINED = STORY_RECENT_MAX + 10

test('compacted but not yet forgotten: the excerpt starts at the first record the log holds and counts only retained ones as left out', async () => {
  const { t, trader } = gateway
  const wal = t.gateway.engine.wal
  const index = t.http.services.logIndex
  const orderId = await placeOrder(t, trader, { ...LIMIT_BUY, price: '58000' }, 'explain-window-0')
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen', 20_000)
  // Far outside the price band: refused by a guard, and recorded as an order.amend_rejected decision.
  const refusedAmends = async (count: number): Promise<void> => {
    for (let n = 0; n < count; n++) expect(errorCode(await json(await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '90000' }))))).toBe('PRICE_BAND')
  }
  await refusedAmends(AMENDS_REMOVED)
  await eventually(() => index.decisionPositionsOf(orderId).later.length === AMENDS_REMOVED, 20_000)

  // Its records so far all fall below the cut; its later amends and its cancel come after everything written so far, so
  // above it, waited for to the order's end, so nothing joins its history under the excerpt below.
  const cut = await segmentCutAfter(t, trader, orderId, 'explain-window', { ...LIMIT_BUY, tif: 'IOC' })
  await refusedAmends(AMENDS_RETAINED)
  await canceledToEnd(t, trader, orderId)

  // Compaction, and the excerpt after it, with nothing awaited between them: the index has not forgotten a position.
  expect(wal.removeSegmentsBelow(cut).length).toBeGreaterThan(0)
  expect(wal.firstLsn).toBe(cut)
  const positions = index.positionsOf(orderId)
  const retained = positions.filter((lsn) => lsn >= cut)
  expect(positions.length - retained.length).toBeGreaterThanOrEqual(1 + AMENDS_REMOVED)
  expect(retained.length).toBeGreaterThan(1 + STORY_RECENT_MAX)
  const retainedAmends = index.decisionPositionsOf(orderId).later.filter((lsn) => lsn >= cut)
  expect(retainedAmends).toHaveLength(AMENDS_RETAINED)

  const excerpt = explainExcerpt(index, orderId)
  const story = excerpt.events.filter(({ lsn }) => excerpt.storyLsns.has(lsn)).map(({ lsn }) => lsn)
  // The first record the log holds and the latest STORY_RECENT_MAX, all read; the retained ones between them left out.
  expect({ story, omitted: excerpt.storyOmitted }).toEqual({ story: [retained[0] as number, ...retained.slice(-STORY_RECENT_MAX)], omitted: retained.length - 1 - STORY_RECENT_MAX })
  // The latest DECISIONS_RECENT_MAX amends (the acceptance is gone); the retained amends before them left out, not the removed.
  const decisions = excerpt.events.filter(({ lsn }) => excerpt.decisionLsns.has(lsn)).map(({ lsn }) => lsn)
  expect({ decisions, omitted: excerpt.decisionsOmitted }).toEqual({ decisions: retainedAmends.slice(-DECISIONS_RECENT_MAX), omitted: AMENDS_RETAINED - DECISIONS_RECENT_MAX })
  expect(excerpt.compacted).toBe(true)
  // Still the window: the index holds the removed positions (it forgets them at the next durable batch).
  expect(index.positionsOf(orderId)).toEqual(positions)
}, 120_000)
