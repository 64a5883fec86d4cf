/**
 * A venue's answer to a place (or cancel, or amend) that came while the log's queue had no room was dropped: the
 * executor only reported EngineOverloadedError, and since only the answer frees the kernel's in-flight slot, the order
 * kept a call "in flight" until a restart — a cancel of it answered `done` and was never sent, and each such order held
 * one of its instrument's callsPerInstrumentMax slots. Answers are now held and submitted again when the log has room
 * (src/runtime/held-answers.ts); held at a stop, they are refused as the stopping engine refuses them, and the next
 * start reads the order back.
 */

import { expect, test } from 'bun:test'
import { GatewayMetrics } from '../../src/http/gateway-metrics.ts'
import { currentClientOrderId } from '../../src/domain/orders.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'
import { fillLogQueue, heldFlushes } from './log-queue-full.ts'

const worlds = worldsStoppedAfterEach()

const body = (key: string, price: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price, tif: 'GTC', client_order_id: key })

async function placed(world: World, key: string, price: string): Promise<string> {
  const { reply } = await world.gateway.place(traderA, body(key, price), null)
  if (reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(reply)}`)
  return reply.orderId
}

/** Runs microtasks (no simulated time) until the venue has `count` place calls: the call is out, its answer not yet in. */
async function placeCallsOut(world: World, count: number): Promise<void> {
  for (let step = 0; step < 50 && world.venue.inspect().requests.calls.place < count; step++) await world.clock.advanceAsync(0)
  expect(world.venue.inspect().requests.calls.place).toBe(count)
}

/** The venue answers (20 ms of its latency) while the log's queue is full; then the disk catches up. */
async function answerWhileLogFull(world: World, flushes: ReturnType<typeof heldFlushes>): Promise<void> {
  flushes.held = true
  const appended = fillLogQueue(world)
  expect(appended.length).toBeGreaterThan(0)
  await world.clock.advanceAsync(20)
  flushes.release()
  await Promise.all(appended)
}

function placeResults(world: World, orderId: string): number {
  let count = 0
  for (const frame of world.gateway.engine.wal.read(1)) {
    const event = domainEventOf(frame)
    if (event?.type === 'order.call_completed' && event.orderId === orderId && event.action === 'place') count++
  }
  return count
}

test('a place answer the log had no room for is held, recorded once, and frees the order: its cancel goes out', async () => {
  const flushes = heldFlushes()
  const world = await startWorld({ seed: 11, wal: { queueRecordsMax: 64, scheduleFlush: flushes.schedule } })
  worlds.push(world)
  const { engine, executor } = world.gateway
  const orderId = await placed(world, 'k1', '59000')
  await placeCallsOut(world, 1)
  expect(engine.state.inFlight.get(orderId)?.action).toBe('place')

  const metrics = new GatewayMetrics()
  metrics.attach(world.gateway, { inFlight: () => 0 })
  await answerWhileLogFull(world, flushes)
  expect(executor.stats.answersHeld).toBe(1)
  expect(metrics.render()).toContain('egress_venue_answers_held_total 1')
  metrics.detach()
  await run(world, 500)
  expect(engine.state.inFlight.has(orderId)).toBe(false)
  expect(engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  expect(placeResults(world, orderId)).toBe(1)

  const canceled = await world.gateway.cancel(traderA, orderId)
  expect(canceled.reply.kind).toBe('done')
  await run(world, 2_000)
  expect(world.venue.inspect().requests.calls.cancel).toBe(1)
  expect(engine.state.orders.get(orderId)?.status).toBe('Canceled')
  expect(world.errors).toEqual([])
})

test('with one call per instrument, a held answer does not hold the next order on the instrument back', async () => {
  const flushes = heldFlushes()
  const world = await startWorld({ seed: 12, params: { callsPerInstrumentMax: 1 }, wal: { queueRecordsMax: 64, scheduleFlush: flushes.schedule } })
  worlds.push(world)
  const { engine } = world.gateway
  await placed(world, 'a1', '59000')
  await placeCallsOut(world, 1)
  await answerWhileLogFull(world, flushes)
  await run(world, 500)

  const second = await placed(world, 'a2', '58900')
  await run(world, 2_000)
  expect(world.venue.inspect().requests.calls.place).toBe(2)
  expect(engine.state.orders.get(second)?.status).toBe('AckedOpen')
  expect(engine.state.callsByInstrument.size).toBe(0)
  expect(world.errors).toEqual([])
})

test('an answer held when the executor stops is refused as at a stop, and the next start reads its order back', async () => {
  const flushes = heldFlushes()
  const world = await startWorld({ seed: 13, wal: { queueRecordsMax: 64, scheduleFlush: flushes.schedule } })
  worlds.push(world)
  const orderId = await placed(world, 's1', '59000')
  await placeCallsOut(world, 1)

  flushes.held = true
  const appended = fillLogQueue(world)
  await world.clock.advanceAsync(20)
  expect(world.gateway.executor.stats.answersHeld).toBeGreaterThanOrEqual(1)
  // Not read back while its answer waits: the read-back's answer would be decided before it.
  expect(await world.gateway.executor.reconcileOrder(orderId)).toBe(false)
  world.gateway.executor.stop()
  flushes.release()
  await Promise.all(appended)
  await world.clock.advanceAsync(0)
  expect(world.gateway.executor.stats.answersRefusedAtStop).toBeGreaterThanOrEqual(1)
  expect(world.errors.filter((error) => error.includes(orderId) || error.includes('Overloaded') || error.includes('log queue full'))).toEqual([])
  expect(world.gateway.engine.state.inFlight.has(orderId)).toBe(true)
  await crashWorld(world)

  const restarted = await startWorld({ seed: 13, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(restarted)
  await run(restarted, 2_000)
  const order = restarted.gateway.engine.state.orders.get(orderId)
  expect(order?.status).toBe('AckedOpen')
  expect(restarted.gateway.engine.state.inFlight.has(orderId)).toBe(false)
  // Read back, never placed again.
  expect(restarted.venue.inspect().requests.calls.place).toBe(1)
})

/**
 * "While an answer is held, the executor does not read its order back" (held-answers.ts): reconcileOrder kept to it,
 * but the executor's own pick did not — an Unknown order's Lane-3 item was picked as soon as its held answer freed
 * the order, and its read-back went to the venue with the answer still waiting, its result to be decided before it
 * (or refused by the full log, reported as an error). A report of a duplicate client id makes a Sent order Unknown
 * with its place still out: the place's answer, held, must be decided before any read-back.
 */
test('an Unknown order whose call answer is held is not read back by the pick until the answer is decided', async () => {
  const flushes = heldFlushes()
  const world = await startWorld({ seed: 14, wal: { queueRecordsMax: 64, scheduleFlush: flushes.schedule } })
  worlds.push(world)
  const { engine, executor } = world.gateway
  const orderId = await placed(world, 'u1', '59000')
  await placeCallsOut(world, 1)
  const order = engine.state.orders.get(orderId)
  if (order === undefined) throw new Error('no order')
  const report = {
    venue: order.venue, execId: 'dup-1', kind: 'rejected', clientOrderId: currentClientOrderId(order), venueOrderId: '', account: 'acct-a', symbol: 'BTC-USD', side: 'buy',
    cumQty: 0n, reason: 'duplicate_client_order_id', venueTimeMs: world.clock.nowMs(),
  } as const
  await engine.submit({ kind: 'venue_report', nowMs: world.clock.nowMs(), report })
  expect(engine.state.orders.get(orderId)?.status).toBe('Unknown')
  expect(engine.state.inFlight.get(orderId)?.action).toBe('place')
  const statusQueries = world.venue.inspect().requests.calls.orderStatus

  flushes.held = true
  const appended = fillLogQueue(world)
  await world.clock.advanceAsync(20)
  expect(executor.stats.answersHeld).toBe(1)
  for (let step = 0; step < 20; step++) await world.clock.advanceAsync(1)
  expect(world.venue.inspect().requests.calls.orderStatus).toBe(statusQueries)
  flushes.release()
  await Promise.all(appended)
  await run(world, 500)
  expect(placeResults(world, orderId)).toBe(1)
  expect(engine.state.inFlight.has(orderId)).toBe(false)
  expect(world.errors).toEqual([])
})
