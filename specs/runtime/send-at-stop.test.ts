import { expect, test } from 'bun:test'
import { startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

/**
 * A send record that a stop's drain makes durable after the executor stopped is still sent: the outbox rule is that a
 * durable send record goes out. Its answer is refused at the stop (nothing may be recorded after the seal), and the
 * next start reads the order back and converges, placing nothing twice.
 *
 * For a while (s52) these calls were skipped, on a review's finding that the venue took an order whose answer was
 * then refused. A second review showed the skip was worse, and it was reverted: a cancel so skipped left the order
 * resting at the venue, where it could fill, for as long as egress was down; a place so skipped was never made at a
 * restart more than resendAgeMsMax (60 s) later, and its accepted order ended Failed (RECONCILE_NOT_FOUND).
 */

const worlds = worldsStoppedAfterEach()

/** A world whose log batches wait while `hold.on`; `release` lands them. */
async function heldWorld(): Promise<{ world: World; hold: { on: boolean }; held: (() => void)[] }> {
  const held: (() => void)[] = []
  const hold = { on: false }
  const world = await startWorld({ seed: 7, wal: { scheduleFlush: (flush) => (hold.on ? held.push(flush) : queueMicrotask(flush)) } })
  worlds.push(world)
  return { world, hold, held }
}

/** Stops the gateway while `held` batches wait, then lands them during the stop's drain. */
async function stopLandingHeld(world: World, hold: { on: boolean }, held: (() => void)[]): Promise<void> {
  expect(held.length).toBe(1)
  const stopping = world.gateway.stop()
  for (let turn = 0; turn < 50; turn++) await Promise.resolve()
  hold.on = false
  for (const flush of held.splice(0)) flush()
  for (let step = 0; step < 20; step++) await world.clock.advanceAsync(5)
  await stopping
}

async function restartedAfter(world: World, downMs: number): Promise<World> {
  for (let step = 0; step < downMs / 60_000; step++) await world.clock.advanceAsync(60_000)
  const restarted = await startWorld({ seed: 7, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(restarted)
  return restarted
}

function limitBuy(world: World, key: string, belowMarket: number) {
  const price = String(Number((world.venue.referencePrice('BTC-USD')?.price ?? 0n) / 10n ** 8n) - belowMarket)
  return { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price, tif: 'GTC', client_order_id: key }
}

test('a place whose record lands in a stop\'s drain goes out once; a restart three minutes later converges without placing again', async () => {
  const { world, hold, held } = await heldWorld()
  hold.on = true
  const placing = world.gateway.place(traderA, limitBuy(world, 'stop-1', 100), null)
  for (let turn = 0; turn < 5; turn++) await Promise.resolve()
  // The accept record's batch lands; the executor decides the send, whose batch stays held.
  held.shift()?.()
  const placed = await placing
  if (placed.reply.kind !== 'accepted') throw new Error(`expected an accepted order, got ${placed.reply.kind}`)
  const orderId = placed.reply.orderId
  for (let turn = 0; turn < 20; turn++) await Promise.resolve()
  expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Sent')
  await stopLandingHeld(world, hold, held)
  expect(world.venue.inspect().requests.calls.place).toBe(1)

  const restarted = await restartedAfter(world, 180_000)
  for (let step = 0; step < 200 && restarted.gateway.engine.state.orders.get(orderId)?.status !== 'AckedOpen'; step++) await world.clock.advanceAsync(50)
  expect(restarted.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  const requests = restarted.venue.inspect().requests
  expect(requests.calls.place).toBe(1)
  expect(requests.duplicatePlaces).toBe(0)
})

test('a cancel whose record lands in a stop\'s drain goes out: the order does not rest at the venue while egress is down', async () => {
  const { world, hold, held } = await heldWorld()
  const placing = world.gateway.place(traderA, limitBuy(world, 'c-1', 500), null)
  for (let step = 0; step < 40; step++) await world.clock.advanceAsync(5)
  const placed = await placing
  if (placed.reply.kind !== 'accepted') throw new Error(`expected an accepted order, got ${placed.reply.kind}`)
  const orderId = placed.reply.orderId
  for (let step = 0; step < 40 && world.gateway.engine.state.orders.get(orderId)?.status !== 'AckedOpen'; step++) await world.clock.advanceAsync(5)
  expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  hold.on = true
  const canceling = world.gateway.cancel(traderA, orderId)
  for (let turn = 0; turn < 5; turn++) await Promise.resolve()
  // The cancel request's batch lands; the cancel's send decision's batch stays held.
  held.shift()?.()
  await canceling
  for (let turn = 0; turn < 20; turn++) await Promise.resolve()
  await stopLandingHeld(world, hold, held)
  expect(world.venue.inspect().requests.calls.cancel).toBe(1)
  expect(world.venue.inspect().orders.filter((order) => order.status === 'open')).toEqual([])

  const restarted = await restartedAfter(world, 3_600_000)
  for (let step = 0; step < 400 && restarted.gateway.engine.state.orders.get(orderId)?.status !== 'Canceled'; step++) await world.clock.advanceAsync(50)
  expect(restarted.gateway.engine.state.orders.get(orderId)?.status).toBe('Canceled')
  expect(restarted.venue.inspect().requests.calls.cancel).toBe(1)
})
