/**
 * An account stream resumed over the end of an order whose acceptance compaction has removed. A resting order lives
 * across snapshots, so compaction can remove the segment holding its `order.accepted` while the kernel still holds
 * it; once it ends and is retired, its last events (the cancel, the fill) name only the order, and neither the hot
 * state nor the log (the log index reads the account from the intake record) knew its account any more: a resumed
 * account stream left them out without a word.
 */

import { expect, test } from 'bun:test'
import { LogIndex } from '../../src/http/log-index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { auth, eventually, LIMIT_BUY, post } from './fixture.ts'
import { SseReader } from './sse-client.ts'
import { retiringGateway } from './order-steps.ts'

const fixture = retiringGateway()
const { place, ended } = fixture

test('a resumed account stream delivers the last events of a retired order whose acceptance was compacted away', async () => {
  const t = fixture.gateway()
  const trader = fixture.trader()
  const wal = t.gateway.engine.wal
  const resting = await place(LIMIT_BUY, 'resting')
  await eventually(() => t.gateway.engine.state.orders.get(resting)?.status === 'AckedOpen')
  for (let index = 0; wal.segments.length < 3; index++) await ended(await place({ ...LIMIT_BUY, tif: 'IOC' }, `filler-${index}`))
  // Compaction: every segment but the newest (the resting order's acceptance among them); the kernel still holds it.
  expect(wal.removeSegmentsBelow(wal.segments.at(-1)?.firstLsn ?? 0).length).toBeGreaterThan(0)
  expect(t.gateway.engine.state.orders.has(resting)).toBe(true)
  const resumeLsn = wal.lastLsn
  // As after a restart here: an index built from this log, whose kernel state holds the order.
  const rebuilt = LogIndex.build(t.gateway.engine)

  expect((await t.request(`/v1/orders/${resting}/cancel`, post(trader, {}))).status).toBe(202)
  await ended(resting)
  await ended(await place({ ...LIMIT_BUY, tif: 'IOC' }, 'after'))
  await eventually(() => !t.gateway.engine.state.orders.has(resting))

  const want: number[] = []
  for (const frame of wal.read(resumeLsn + 1, { toLsn: wal.lastLsn })) {
    if ((domainEventOf(frame) as { orderId?: string } | null)?.orderId === resting) want.push(frame.lsn)
  }
  expect(want.length).toBeGreaterThan(0)
  const res = await t.http.app.fetch(new Request('http://egress.test/v1/accounts/demo-1/stream', { headers: auth(trader, { 'Last-Event-ID': String(resumeLsn) }) }))
  expect(res.status).toBe(200)
  const stream = new SseReader(res)
  const frames = await stream.until((all) => all.some((frame) => (frame.id ?? 0) >= (want.at(-1) ?? 0)), 1_000).catch(() => stream.events())
  await stream.cancel()
  const got = frames.filter((frame) => (frame.data as { orderId?: string } | null)?.orderId === resting).map((frame) => frame.id)
  expect(got).toEqual(want)
  expect(rebuilt.orderAccountOf(resting)).toBe('demo-1')
  rebuilt.close()
})
