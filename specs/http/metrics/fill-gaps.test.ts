/**
 * The fill-gap watch (src/runtime/fill-gap-watch.ts) writes nothing to the log; before, nothing on /metrics showed it
 * either, so an operator could not tell it worked. Now GET /metrics counts the gaps it suspected, how they closed, and
 * the read-backs they caused (src/http/fill-gap-metrics.ts), with no order or account id as a label.
 */

import { expect, test } from 'bun:test'
import { Hono } from 'hono'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import type { Order } from '../../../src/domain/orders.ts'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { serveMetricsText } from '../../../src/http/metrics-route.ts'
import { SimClock } from '../../../src/runtime/clock.ts'
import { FILL_GAP_GRACE_MS, FillGapWatch } from '../../../src/runtime/fill-gap-watch.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

async function scrape(metrics: GatewayMetrics): Promise<Map<string, number>> {
  const app = new Hono()
  app.get('/metrics', serveMetricsText(metrics))
  const text = await (await app.request('/metrics')).text()
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (!line.startsWith('egress_fill_gap')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

test('a lost fill report: GET /metrics shows the gap suspected and the order read back, labelled by no id', async () => {
  const world = await startWorld({ seed: 30_601, venueOptions: { priceStepTicksMax: 0, partialFillProbability: 1, fillsPerMatchMax: 1 } })
  worlds.push(world)
  const metrics = new GatewayMetrics()
  metrics.attach(world.gateway, { inFlight: () => 0 })
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'rest' }, null)
  expect(placed.reply.kind).toBe('accepted')
  await run(world, 50)
  const oneMatch = (): void => {
    world.venue.setReferencePrice('BTC-USD', parseDecimal('58900'))
    world.venue.setReferencePrice('BTC-USD', parseDecimal('61000'))
  }
  expect(await scrape(metrics)).toEqual(new Map([
    ['egress_fill_gaps_suspected_total', 0],
    ['egress_fill_gaps_resolved_total{by="late_report"}', 0],
    ['egress_fill_gaps_resolved_total{by="order_closed"}', 0],
    ['egress_fill_gap_read_backs_total{outcome="started"}', 0],
    ['egress_fill_gap_read_backs_total{outcome="deferred"}', 0],
    ['egress_fill_gaps_open', 0],
  ]))
  // The first match's fill report is lost; the second's arrives, stating both fills: a gap.
  world.venue.setFaults({ dropReportProbability: 1 })
  oneMatch()
  world.venue.setFaults({})
  await run(world, 50)
  oneMatch()
  await run(world, 50)
  const open = await scrape(metrics)
  expect({ suspected: open.get('egress_fill_gaps_suspected_total'), open: open.get('egress_fill_gaps_open') }).toEqual({ suspected: 1, open: 1 })
  await run(world, FILL_GAP_GRACE_MS + 100)
  const after = await scrape(metrics)
  expect(after.get('egress_fill_gap_read_backs_total{outcome="started"}')).toBe(1)
  expect(after.get('egress_fill_gaps_open')).toBe(0)
  expect(after.get('egress_fill_gaps_resolved_total{by="late_report"}')).toBe(0)
  expect([...after.keys()].some((name) => name.includes('acct-a') || name.includes('rest'))).toBe(false)
  expect(world.errors).toEqual([])
})

test('the watch counts a late report that closes its gap, an order that leaves the venue, and a read-back deferred for the call budget', () => {
  const clock = new SimClock({ startMs: 0 })
  const orders = new Map<string, Order>([['late', { orderId: 'late', status: 'Partial', cumQty: 1n } as Order], ['gone', { orderId: 'gone', status: 'Partial', cumQty: 1n } as Order], ['slow', { orderId: 'slow', status: 'Partial', cumQty: 1n } as Order]])
  const readBacks: string[] = []
  let budgetLeft = 0
  const watch = new FillGapWatch({ clock, graceMs: FILL_GAP_GRACE_MS, orderOf: (id) => orders.get(id), readBack: (id) => readBacks.push(id), callsBudgetLeft: () => budgetLeft })
  for (const id of ['late', 'gone', 'slow']) watch.noteFill(id, 2n)
  watch.noteFill('slow', 3n) // the same gap, wider: not a second one
  expect(watch.openCount).toBe(3)
  orders.set('late', { orderId: 'late', status: 'Partial', cumQty: 2n } as Order)
  watch.closed('gone')
  clock.advance(FILL_GAP_GRACE_MS)
  expect(watch.stats).toEqual({ suspected: 3, resolvedByReport: 1, closedWithOrder: 1, readBacks: 0, readBacksDeferred: 1 })
  budgetLeft = 3
  clock.advance(FILL_GAP_GRACE_MS)
  expect(readBacks).toEqual(['slow'])
  expect(watch.stats).toEqual({ suspected: 3, resolvedByReport: 1, closedWithOrder: 1, readBacks: 1, readBacksDeferred: 1 })
  expect(watch.openCount).toBe(0)
})
