/**
 * A standby promoted without the old leader's last records (asynchronous replication, its stream cut) starts without
 * the orders those records placed, while they rest at the venue both nodes share. The takeover runs Gateway.start's
 * bootstrap (leading.ts lead), which lists each attached venue's open orders: each one under egress's client ids that
 * the new leader does not hold is raised as a REPORT_ORPHANED alert (src/kernel/unheld-venue-orders.ts), and nothing
 * is sent for it; the orders it replicated are confirmed by the same list and not alerted.
 */

import { afterEach, expect, test } from 'bun:test'
import { Lease } from '../../../wal/index.ts'
import type { DomainEvent } from '../../../src/domain/events/index.ts'
import type { Gateway } from '../../../src/runtime/index.ts'
import { domainEventOf } from '../../../src/runtime/records.ts'
import { crashWorld, drive, RECONCILE_SWEEP_MS, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../harness.ts'
import { serveReplication } from './support.ts'
import { takeoverNode, worldGateways } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A limit buy well below the market: it rests at the venue (AckedOpen). */
async function rest(world: World, clientOrderId: string): Promise<string> {
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: clientOrderId }
  const placed = await drive(world, world.gateway.place(traderA, body, null))
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 100)
  expect(world.gateway.engine.state.orders.get(placed.reply.orderId)?.status).toBe('AckedOpen')
  return placed.reply.orderId
}

/** Steps the shared simulated clock (the venue answers on it) until `condition` holds, for at most `wallMs` of wall time. */
async function stepUntil(world: World, condition: () => boolean, what: string, wallMs = 10_000): Promise<void> {
  const deadline = performance.now() + wallMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await world.clock.advanceAsync(5)
    await Bun.sleep(1)
  }
}

function orphanAlerts(gateway: Gateway): string[] {
  const events: DomainEvent[] = []
  for (const frame of gateway.engine.wal.read(1)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events.flatMap((event) => (event.type === 'alert.raised' && event.reason === 'REPORT_ORPHANED' ? [event.detail] : []))
}

/**
 * A leader (the world's gateway) streaming to a standby node over loopback, `kept` (when asked) resting at the venue
 * and replicated; then the stream is cut, two more orders rest at the venue, the leader crashes and gives its lease
 * up, and the standby takes over, the shared clock stepped meanwhile.
 */
async function promotedWithoutTail(seed: number, options: { kept: boolean }) {
  const world = await startWorld({ seed })
  worlds.push(world)
  const kept = options.kept ? [await rest(world, 'kept-1')] : []
  let server = serveReplication(() => world.gateway.engine.wal)
  cleanups.push(() => server.stop())
  let leader: Gateway | null = null
  const standby = takeoverNode(cleanups, worldGateways(world), { oldLeader: false, leaseTtlMs: 300, onGateway: (gateway) => void (leader = gateway) })
  const oldLease = Lease.acquire({ dir: standby.leaseDir, holderId: `old ${server.url}`, ttlMs: 60_000, clockSkewMsMax: 10 })
  await standby.node.start()
  const replicatedTo = world.gateway.engine.wal.lastLsn
  await stepUntil(world, () => standby.node.gateway?.engine.wal.lastLsn === replicatedTo, 'the standby to replicate the leader\'s log')

  // Replication is cut (the leader's stream gone; asynchronous, the leader goes on acknowledging), and two more orders
  // rest at the venue that the standby never receives.
  server.stop()
  server = { url: server.url, stop: () => {} }
  const lost = [await rest(world, 'lost-1'), await rest(world, 'lost-2')]
  expect(world.gateway.engine.wal.lastLsn).toBeGreaterThan(replicatedTo)
  const placesBefore = world.venue.inspect().requests.calls.place
  // The leader dies with them; its lease is given up, and the standby takes over at its next tick.
  await crashWorld(world)
  oldLease.release()
  await stepUntil(world, () => standby.node.role === 'leader', `the takeover (${standby.logLines.join(' | ')})`)
  const promoted = leader as Gateway | null
  if (promoted === null) throw new Error('no leader gateway')
  for (const orderId of kept) expect(promoted.engine.state.orders.has(orderId)).toBe(true)
  for (const orderId of lost) expect(promoted.engine.state.orders.has(orderId)).toBe(false)
  await run({ ...world, gateway: promoted }, 3 * RECONCILE_SWEEP_MS)
  return { world, standby, promoted, kept, lost, placesBefore }
}

async function expectAlertedNothingSent(promotedWith: Awaited<ReturnType<typeof promotedWithoutTail>>): Promise<void> {
  const { world, standby, promoted, kept, lost, placesBefore } = promotedWith
  // One alert per order the standby never received, naming its client id; none for an order it holds.
  const alerts = orphanAlerts(promoted)
  expect(alerts).toHaveLength(lost.length)
  for (const orderId of lost) {
    expect(alerts.filter((detail) => detail.startsWith(`sim lists eg-${orderId} (venue order `) && detail.includes('egress holds no such order'))).toHaveLength(1)
  }
  for (const orderId of kept) expect(alerts.some((detail) => detail.includes(orderId))).toBe(false)
  // Nothing sent for them: no place, no cancel, no amend; every order still rests at the venue.
  expect(promoted.executor.stats).toMatchObject({ sends: 0, cancels: 0, amends: 0 })
  const requests = world.venue.inspect().requests.calls
  expect(requests.place).toBe(placesBefore)
  expect(requests.cancel).toBe(0)
  expect(requests.amend).toBe(0)
  for (const orderId of [...kept, ...lost]) {
    const atVenue = world.venue.inspect().orders.find((order) => order.clientOrderId === `eg-${orderId}`)
    expect(atVenue?.status).toBe('open')
  }
  expect(standby.errors).toEqual([])
}

test("a standby promoted without the leader's last records alerts each order they placed, resting at the venue, and sends nothing for it", async () => {
  const promotedWith = await promotedWithoutTail(91, { kept: true })
  // The venue is one the new leader holds an open order at: listed within its bootstrap, the kept order confirmed.
  expect(promotedWith.promoted.bootstrapReport).toMatchObject({ openOrdersConfirmed: 1, unheldVenueOrders: 2, resent: [] })
  await expectAlertedNothingSent(promotedWith)
})

test('holding no open order at the venue, the promoted standby lists it just after its start and alerts the same', async () => {
  const promotedWith = await promotedWithoutTail(92, { kept: false })
  expect(promotedWith.promoted.bootstrapReport).toMatchObject({ openOrdersConfirmed: 0, unheldVenueOrders: 0, resent: [] })
  await expectAlertedNothingSent(promotedWith)
})
