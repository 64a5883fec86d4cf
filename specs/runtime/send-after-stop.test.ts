import { expect, test } from 'bun:test'
import { startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

/**
 * A stopped executor asks no venue anything (executor.ts callVenue): a send record that a stop's drain makes durable
 * after the executor stopped is left in flight in the log, never called. Called, the venue took the order, its answer
 * was refused at the stop, and the order rested at the venue with nothing recorded until the next start read it back.
 * The next start finds the order in flight, reads it back, and it is placed exactly once.
 */

const worlds = worldsStoppedAfterEach()

test('a send record made durable by a stop\'s drain calls no venue; the next start places the order exactly once', async () => {
  const held: (() => void)[] = []
  let holding = false
  const scheduleFlush = (flush: () => void) => (holding ? held.push(flush) : queueMicrotask(flush))
  const world = await startWorld({ seed: 7, wal: { scheduleFlush } })
  worlds.push(world)
  const { gateway, venue, clock } = world
  const price = String(Number((venue.referencePrice('BTC-USD')?.price ?? 0n) / 10n ** 8n) - 100)
  holding = true
  const placing = gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price, tif: 'GTC', client_order_id: 'stop-1' }, null)
  for (let turn = 0; turn < 5; turn++) await Promise.resolve()
  // The accept record's batch lands; the executor decides the send, whose batch stays held.
  held.shift()?.()
  const placed = await placing
  if (placed.reply.kind !== 'accepted') throw new Error(`expected an accepted order, got ${placed.reply.kind}`)
  const orderId = placed.reply.orderId
  for (let turn = 0; turn < 20; turn++) await Promise.resolve()
  expect(gateway.engine.state.orders.get(orderId)?.status).toBe('Sent')
  expect(held.length).toBe(1)
  const stopping = gateway.stop()
  for (let turn = 0; turn < 50; turn++) await Promise.resolve()
  // The stop's drain makes the send record durable after the executor stopped.
  holding = false
  for (const flush of held.splice(0)) flush()
  for (let step = 0; step < 20; step++) await clock.advanceAsync(5)
  await stopping
  expect(venue.inspect().requests.calls.place).toBe(0)
  expect(gateway.executor.stats.sendsSkippedAtStop).toBe(1)
  expect(gateway.executor.stats.answersRefusedAtStop).toBe(0)

  const restarted = await startWorld({ seed: 7, dir: world.dir, clock, venue })
  worlds.push(restarted)
  for (let step = 0; step < 200 && restarted.venue.inspect().requests.calls.place === 0; step++) await clock.advanceAsync(50)
  for (let step = 0; step < 40; step++) await clock.advanceAsync(50)
  const requests = restarted.venue.inspect().requests
  expect(requests.calls.place).toBe(1)
  expect(requests.duplicatePlaces).toBe(0)
  expect(['AckedOpen', 'PartiallyFilled', 'Filled']).toContain(restarted.gateway.engine.state.orders.get(orderId)?.status ?? 'missing')
})
