/**
 * The leader's time-to-live timer (src/runtime/ttl-expiries.ts) with the kernel's rule (src/kernel/ttl.ts), on a
 * running gateway and the sim venue: a resting order past its ttl_ms is canceled at the venue through Lane0 (reason
 * TTL_EXPIRED in the log), never placed twice; the log re-decides identically; a crash around the expiry loses nothing
 * and the next start ends what expired while egress was down; no order is ever sent after its expiry.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { openReadOnly } from '../../wal/index.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { rebuildState } from '../../src/runtime/snapshot/index.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const TTL_MS = 2_000

function body(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  // 59000 rests below the sim's reference price.
  return { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: id, ...extra }
}

async function placed(world: World, id: string, extra: Record<string, unknown> = {}): Promise<string> {
  const result = await world.gateway.place(traderA, body(id, extra), null)
  if (result.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result.reply)}`)
  return result.reply.orderId
}

function logEvents(world: World): DomainEvent[] {
  const events: DomainEvent[] = []
  for (const frame of openReadOnly(join(world.dir, 'log')).read(1)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}

/** No place of a time-to-live order was decided at or after its expiry, in the whole log. */
function expectNoLateSend(events: DomainEvent[]): void {
  const expiries = new Map<string, number>()
  for (const event of events) {
    if (event.type === 'order.accepted' && event.ttlMs !== undefined) expiries.set(event.orderId, event.atMs + event.ttlMs)
    if (event.type === 'order.send_requested') expect(event.atMs).toBeLessThan(expiries.get(event.orderId) ?? Number.POSITIVE_INFINITY)
  }
}

test('a resting order past its time-to-live is canceled at the venue through Lane0 (TTL_EXPIRED); one without stays; the log re-decides identically', async () => {
  const world = await startWorld({ seed: 81, commandRecords: true })
  worlds.push(world)
  const { gateway } = world
  const ttl = await placed(world, 'ttl', { ttl_ms: TTL_MS })
  const plain = await placed(world, 'plain')
  await run(world, 300)
  expect(gateway.engine.state.orders.get(ttl)?.status).toBe('AckedOpen')
  await run(world, TTL_MS)
  // Canceled by the venue's answer to the TTL cancel (the order's last reason is that answer's, VENUE_CANCELED).
  expect(gateway.engine.state.orders.get(ttl)?.status).toBe('Canceled')
  expect(gateway.engine.state.orders.get(plain)?.status).toBe('AckedOpen')
  expect(world.venue.inspect().orders.find((venueOrder) => venueOrder.clientOrderId === `eg-${ttl}`)?.status).toBe('canceled')
  const events = logEvents(world).filter((event) => 'orderId' in event && event.orderId === ttl)
  expect(events.filter((event) => event.type === 'order.send_requested')).toHaveLength(1)
  expect(events.find((event) => event.type === 'order.cancel_requested')).toMatchObject({ reason: 'TTL_EXPIRED', principalId: 'egress:ttl' })
  expect(world.errors).toEqual([])

  await gateway.engine.settled()
  const logDir = join(world.dir, 'log')
  expect(stateDigest(rebuildState(openReadOnly(logDir)).state)).toBe(stateDigest(gateway.engine.state))
  const report = redecideLog(logDir)
  expect(report.decisions).toBeGreaterThan(0)
  expect([report.mismatches, report.lastMismatches]).toEqual([0, []])
  expect(report.eventsWithoutCommand).toBe(0)
})

test('a crash before the expiry loses nothing: the next start, past it, cancels the resting order and ends the queued one unsent', async () => {
  const world = await startWorld({ seed: 82 })
  const resting = await placed(world, 'rest', { ttl_ms: TTL_MS })
  await run(world, 300)
  expect(world.gateway.engine.state.orders.get(resting)?.status).toBe('AckedOpen')
  // HALT-free way to leave one queued at the crash: the order is accepted (durable) and the process dies at once.
  const queued = await placed(world, 'queued', { ttl_ms: TTL_MS })
  await crashWorld(world)
  await world.clock.advanceAsync(TTL_MS + 1_000)
  const second = await startWorld({ seed: 82, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(second)
  await run(second, 500)
  const state = second.gateway.engine.state
  expect(state.orders.get(resting)?.status).toBe('Canceled')
  expect(logEvents(second).find((event) => event.type === 'order.cancel_requested' && event.orderId === resting)).toMatchObject({ reason: 'TTL_EXPIRED' })
  // Whether the crash caught it queued or its place in flight, it ends, never placed past its expiry.
  expect(['Canceled', 'Failed']).toContain(state.orders.get(queued)?.status ?? 'missing')
  expect(second.gateway.engine.state.accounts.get('acct-a')?.reserved.get('USD') ?? 0n).toBe(0n)
  expectNoLateSend(logEvents(second))
  expect(second.errors).toEqual([])
})

test('a crash after the cancel request is durable and before the venue answered: the next start finishes the cancel', async () => {
  const world = await startWorld({ seed: 83 })
  const resting = await placed(world, 'rest', { ttl_ms: TTL_MS })
  await run(world, 300)
  // Stop the venue from answering cancels: the TTL cancel is asked for and sent, its answer lost with the process.
  const cancel = world.venue.cancel.bind(world.venue)
  world.venue.cancel = () => new Promise(() => {})
  await run(world, TTL_MS)
  expect(world.gateway.engine.state.orders.get(resting)?.cancelWanted).toBe(true)
  await crashWorld(world)
  world.venue.cancel = cancel
  const second = await startWorld({ seed: 83, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(second)
  await run(second, 3_000)
  const order = second.gateway.engine.state.orders.get(resting)
  expect(order?.status).toBe('Canceled')
  expect(logEvents(second).filter((event) => event.type === 'order.send_requested' && event.orderId === resting)).toHaveLength(1)
  expectNoLateSend(logEvents(second))
})
