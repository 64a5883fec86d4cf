/**
 * Open venue orders egress does not hold, found at a start (src/runtime/bootstrap.ts alertUnheld,
 * src/kernel/unheld-venue-orders.ts). A data directory restored from a copy taken before some orders were placed
 * starts without them, while they rest at the venue. Before, bootstrap asked only the venues egress held open
 * orders at, and compared their lists only with those orders: the others stayed live and unwatched until a fill
 * came as an orphan report. Now each attached venue is listed, and each open order under egress's client ids that
 * egress does not hold raises a REPORT_ORPHANED alert at the start.
 */

import { expect, test } from 'bun:test'
import { cpSync } from 'node:fs'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { UNHELD_ALERTS_MAX } from '../../src/kernel/unheld-venue-orders.ts'
import type { VenueOrder } from '../../src/venues/adapter.ts'
import { crashWorld, run, startWorld, tempDataDir, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

async function rest(world: World, clientOrderId: string): Promise<string> {
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: clientOrderId }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 100)
  expect(world.gateway.engine.state.orders.get(placed.reply.orderId)?.status).toBe('AckedOpen')
  return placed.reply.orderId
}

function orphanAlerts(world: World): string[] {
  const events: DomainEvent[] = []
  for (const frame of world.gateway.engine.wal.read(1)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events.flatMap((event) => (event.type === 'alert.raised' && event.reason === 'REPORT_ORPHANED' ? [event.detail] : []))
}

/**
 * A world with one order resting (none with `empty`), its data dir copied (the "backup"), then two more orders resting
 * at the venue.
 */
async function restoredWorld(seed: number, options: { empty?: boolean } = {}): Promise<{ first: World; backupDir: string; later: string[] }> {
  const first = await startWorld({ seed })
  worlds.push(first)
  if (options.empty !== true) await rest(first, 'kept-1')
  await run(first, 50)
  await crashWorld(first)
  const backupDir = tempDataDir()
  cpSync(first.dir, backupDir, { recursive: true })
  const second = await startWorld({ seed, dir: first.dir, clock: first.clock, venue: first.venue })
  worlds.push(second)
  const later = [await rest(second, 'later-1'), await rest(second, 'later-2')]
  await crashWorld(second)
  return { first, backupDir, later }
}

test('a start from a copy taken before two orders were placed alerts each of them, resting at the venue and unknown to egress', async () => {
  const { first, backupDir, later } = await restoredWorld(81)
  const restored = await startWorld({ seed: 81, dir: backupDir, clock: first.clock, venue: first.venue })
  worlds.push(restored)
  expect(restored.gateway.bootstrapReport).toMatchObject({ openOrdersConfirmed: 1, unheldVenueOrders: 2 })
  expectAlerted(restored, later)
})

test('a venue egress holds no open order at is listed without holding the start, and its unheld orders alerted just after', async () => {
  const { first, backupDir, later } = await restoredWorld(84, { empty: true })
  let listsAsked = 0
  const openOrders = first.venue.openOrders.bind(first.venue)
  first.venue.openOrders = () => {
    listsAsked++
    return openOrders()
  }
  const restored = await startWorld({ seed: 84, dir: backupDir, clock: first.clock, venue: first.venue })
  worlds.push(restored)
  expect(restored.gateway.bootstrapReport?.unheldVenueOrders).toBe(0)
  await run(restored, 100)
  expect(listsAsked).toBe(1)
  expectAlerted(restored, later)
})

function expectAlerted(restored: World, later: string[]): void {
  const alerts = orphanAlerts(restored)
  expect(alerts).toHaveLength(2)
  for (const orderId of later) {
    expect(restored.gateway.engine.state.orders.has(orderId)).toBe(false)
    expect(alerts.some((detail) => detail.startsWith(`sim lists eg-${orderId} (venue order `) && detail.includes('egress holds no such order'))).toBe(true)
  }
  expect(restored.errors).toEqual([])
}

test('a start on the log that holds them alerts nothing, and another system\'s open orders are not egress\'s to alert', async () => {
  const { first } = await restoredWorld(82)
  const openOrders = first.venue.openOrders.bind(first.venue)
  first.venue.openOrders = async () => {
    const answer = await openOrders()
    if (answer.kind !== 'ok') return answer
    const other: VenueOrder = { ...(answer.value[0] as VenueOrder), clientOrderId: 'other-system-1', venueOrderId: 'v-other-1' }
    return { kind: 'ok', value: [...answer.value, other] }
  }
  const again = await startWorld({ seed: 82, dir: first.dir, clock: first.clock, venue: first.venue })
  worlds.push(again)
  expect(again.gateway.bootstrapReport).toMatchObject({ openOrdersConfirmed: 3, unheldVenueOrders: 0 })
  expect(orphanAlerts(again)).toEqual([])
})

test(`past ${UNHELD_ALERTS_MAX} unheld orders at a venue, the rest are counted in one more alert`, async () => {
  const { first, backupDir } = await restoredWorld(83)
  const openOrders = first.venue.openOrders.bind(first.venue)
  first.venue.openOrders = async () => {
    const answer = await openOrders()
    if (answer.kind !== 'ok') return answer
    const template = answer.value[0] as VenueOrder
    const made = Array.from({ length: 150 }, (_, index) => ({ ...template, clientOrderId: `eg-ghost-${index}`, venueOrderId: `v-ghost-${index}` }))
    return { kind: 'ok', value: [...answer.value, ...made] }
  }
  const restored = await startWorld({ seed: 83, dir: backupDir, clock: first.clock, venue: first.venue })
  worlds.push(restored)
  expect(restored.gateway.bootstrapReport?.unheldVenueOrders).toBe(152)
  const alerts = orphanAlerts(restored)
  expect(alerts).toHaveLength(UNHELD_ALERTS_MAX + 1)
  expect(alerts.at(-1)).toBe(`sim lists 52 more open orders under egress's client ids that egress does not hold (named: the first ${UNHELD_ALERTS_MAX})`)
})

test('an unheld order whose ids a record cannot hold is counted, not named, and the start goes on', async () => {
  const { first, backupDir } = await restoredWorld(84)
  const openOrders = first.venue.openOrders.bind(first.venue)
  first.venue.openOrders = async () => {
    const answer = await openOrders()
    if (answer.kind !== 'ok') return answer
    // The list is the venue's text: an id of 2 MB made the alert a record past the log's 1 MiB, and the start failed.
    const huge: VenueOrder = { ...(answer.value[0] as VenueOrder), clientOrderId: 'eg-ghost-huge', venueOrderId: 'v'.repeat(2_000_000) }
    return { kind: 'ok', value: [...answer.value, huge] }
  }
  const restored = await startWorld({ seed: 84, dir: backupDir, clock: first.clock, venue: first.venue })
  worlds.push(restored)
  expect(restored.gateway.bootstrapReport?.unheldVenueOrders).toBe(3)
  const alerts = orphanAlerts(restored)
  expect(alerts).toHaveLength(3)
  expect(alerts.at(-1)).toBe(`sim lists 1 more open orders under egress's client ids that egress does not hold (named: the first ${UNHELD_ALERTS_MAX})`)
  expect(alerts.some((detail) => detail.includes('eg-ghost-huge'))).toBe(false)
})
