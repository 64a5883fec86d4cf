/**
 * A decision is in the log whole or not at all (wal/frame.ts: every frame of an append but its last says more follow,
 * and an open cuts an append whose last frame never reached the disk). The case that made it matter: a fill's decision
 * is `inbox.report_accepted` then `order.fill`. A crash that kept the first and lost the second left the report's
 * execId seen with nothing booked: the venue's resend and the read-back's trade were dropped as duplicates, and the
 * read-back booked a synthetic fill at the limit price with no fee, where the venue filled at its own price and fee.
 */

import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { openReadOnly } from '../../wal/index.ts'
import { crashCopyAt, crashWorld, run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 11

interface Logged {
  lsn: number
  event: DomainEvent
}

function logged(dir: string): Logged[] {
  const log = openReadOnly(join(dir, 'log'))
  const events: Logged[] = []
  for (const frame of log.read(log.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push({ lsn: frame.lsn, event })
  }
  return events
}

type Fill = Extract<DomainEvent, { type: 'order.fill' }>

function fillsOf(events: Logged[], orderId: string): Fill[] {
  return events.map((entry) => entry.event).filter((event): event is Fill => event.type === 'order.fill' && event.orderId === orderId)
}

describe('a crash inside a decision', () => {
  test('a fill decision torn after its report_accepted is cut whole: the restart books the venue\'s fill, at its price and fee, not a synthetic one', async () => {
    const world = await startWorld({ seed: SEED, venueOptions: { priceStepTicksMax: 0 } })
    worlds.push(world)
    // A buy above the 60000 market: the sim venue fills it at its own ask, below the limit, with a fee.
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '60500', client_order_id: 'torn-fill' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    const orderId = placed.reply.orderId
    await run(world, 2_000)
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Filled')
    const before = logged(world.dir)
    const [venueFill] = fillsOf(before, orderId)
    if (venueFill === undefined) throw new Error('the venue filled nothing')
    expect(venueFill.synthetic).toBe(false)
    const fillLsn = before.find((entry) => entry.event === venueFill)?.lsn as number
    const accepted = before.find((entry) => entry.event.type === 'inbox.report_accepted' && entry.event.report.execId === venueFill.execId)
    if (accepted === undefined) throw new Error('no report_accepted for the fill')
    // The fill's decision: its report_accepted, then the fill, in one append.
    expect(accepted.lsn).toBeLessThan(fillLsn)
    await crashWorld(world)

    const torn = crashCopyAt(world.dir, accepted.lsn)
    const second = await startWorld({ seed: SEED, dir: torn, clock: world.clock, venue: world.venue })
    worlds.push(second)
    // The open cut the decision's frame that did reach the disk.
    expect(second.gateway.engine.wal.recovery.tornTail).toMatchObject({ lsn: accepted.lsn, reason: 'its append incomplete', validFramesRemoved: 0, appendFramesRemoved: 1 })
    await run(second, 20_000)
    expect(second.gateway.engine.state.orders.get(orderId)?.status).toBe('Filled')
    const after = logged(torn)
    const fills = fillsOf(after, orderId)
    expect(fills.map((fill) => ({ execId: fill.execId, lastPrice: fill.lastPrice, fee: fill.fee, synthetic: fill.synthetic }))).toEqual([
      { execId: venueFill.execId, lastPrice: venueFill.lastPrice, fee: venueFill.fee, synthetic: false },
    ])
    expect(after.some((entry) => entry.event.type === 'inbox.duplicate_dropped' && entry.event.execId === venueFill.execId)).toBe(false)
  })
})
