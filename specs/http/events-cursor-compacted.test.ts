/**
 * An /events cursor must be the LSN of one of the order's records (log-index.ts isCursorOf), with one allowance: a
 * position below the retained log. Compaction removed every record there, so starting after it skips nothing that
 * can still be read, and a client that held a next_cursor while its records were compacted reads on.
 */

import { expect, test } from 'bun:test'
import { auth, eventually, json, LIMIT_BUY, post } from './fixture.ts'
import { compactableGateway } from './order-steps.ts'

const gateway = compactableGateway()

test('below the retained log any LSN is taken and the page holds every retained record of the order; above it only its own', async () => {
  const { t, trader } = gateway
  const wal = t.gateway.engine.wal
  const startLsn = wal.lastLsn
  const first = (await json(await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, price: '58000' }, { 'Idempotency-Key': 'compacted-cursor-0' })))).order_id as string
  const acceptedLsn = t.http.services.logIndex.positionsOf(first)[0] ?? 0
  // Other orders fill three segments after the first order's acceptance (counted from it, not from the log's start:
  // in two full runs, s37 and s38, the log already held ~140 records when this test began, spanning four 8 KiB
  // segments, so a count from the start placed no other order and left no other record below the cut).
  const segmentsAfterAcceptance = (): number => wal.segments.filter((segment) => segment.firstLsn > acceptedLsn).length
  for (let index = 1; index < 400 && segmentsAfterAcceptance() < 3; index++) {
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `compacted-cursor-${index}` }))).status).toBe(202)
  }
  // The first order gets records in the last segment too: its cancel.
  expect((await t.request(`/v1/orders/${first}/cancel`, post(trader, {}))).status).toBe(202)
  // Its history is complete once the cancel's venue call has completed and the order is canceled: nothing is added
  // under the reads below. The call's answer alone is not enough: the venue's `canceled` report travels apart from it
  // and often lands after it (then `order.canceled` could join the order's records between the reads below, failing
  // the page's comparison, the wider the window the more loaded the machine). Both are read from the index the page
  // is served from, which takes records once durable (the state has them a little earlier), and waited for with room
  // for a loaded machine (the sim venue runs on real timers).
  await eventually(() => {
    const events = t.http.services.logIndex.events(first).map(({ event }) => event)
    return events.some((event) => event.type === 'order.canceled') && events.some((event) => event.type === 'order.call_completed' && event.action === 'cancel')
  }, 20_000)
  const positions = [...t.http.services.logIndex.positionsOf(first)]
  // The cut: the start of the segment holding the order's last record (not the log's last segment, which other
  // orders' records — fills as the sim's price walks — may have begun after it while the test waited).
  const lastPosition = positions.at(-1) ?? 0
  const cut = wal.segments.filter((segment) => segment.firstLsn <= lastPosition).at(-1)?.firstLsn ?? 0
  // The index holds the order from its acceptance on, and the log's first LSN has not moved before the compaction
  // below. When the log was not fresh at the start, the records before the order are named (what wrote them is not
  // known: an idle gateway writes none).
  if (startLsn > 20) console.warn(`events-cursor-compacted: the log held ${startLsn} records before the first order: ${recordTypesBelow(startLsn)}`)
  const seen = { acceptedLsn, firstPosition: positions[0], firstLsn: wal.firstLsn }
  expect(seen).toEqual({ acceptedLsn: startLsn + 1, firstPosition: startLsn + 1, firstLsn: 1 })
  expect(positions[0]).toBeLessThan(cut)
  expect(positions.at(-1)).toBeGreaterThanOrEqual(cut)
  expect(wal.removeSegmentsBelow(cut).length).toBeGreaterThan(0)
  expect(wal.firstLsn).toBe(cut)

  const notOurs = (from: number, to: number): number => {
    for (let lsn = from; lsn < to; lsn++) if (!positions.includes(lsn)) return lsn
    throw new Error(`no LSN of another record in ${from}..${to}`)
  }
  const below = notOurs(positions[0] as number, cut)
  const page = await t.request(`/v1/orders/${first}/events?cursor=${below}`, { headers: auth(trader) })
  expect(page.status).toBe(200)
  const lsns = ((await json(page)).events as { lsn: number }[]).map((event) => event.lsn)
  expect(lsns).toEqual(positions.filter((lsn) => lsn >= cut))
  // A record of another order above the cut: the segment from the cut may hold only this order's cancel (CI once had
  // the boundary fall just before it, and nothing written after), so one more order is placed to name one.
  const other = (await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'compacted-cursor-above' })))).order_id as string
  await eventually(() => t.http.services.logIndex.positionsOf(other).length > 0, 20_000)
  const above = notOurs(cut, wal.lastLsn + 1)
  expect((await t.request(`/v1/orders/${first}/events?cursor=${above}`, { headers: auth(trader) })).status).toBe(400)
  // Up to 400 orders through the HTTP path and the waits above, on a loaded machine: more than bun's 5 s default.
}, 60_000)

/** The record types among the log's first `lastLsn` records, with their counts (for the warning above). */
function recordTypesBelow(lastLsn: number): string {
  const counts = new Map<number, number>()
  for (const frame of gateway.t.gateway.engine.wal.read(1, { toLsn: lastLsn })) counts.set(frame.type, (counts.get(frame.type) ?? 0) + 1)
  return JSON.stringify(Object.fromEntries(counts))
}
