/**
 * A power cut's torn tail on disk (src/kernel/order-lists/torn-lists.ts): the log kept leg A's fill and lost the
 * `order_list.triggered` and sibling cancel the same decision wrote after it. After a restart the start fires the
 * list: leg B is canceled at the venue, once, and nothing is placed twice. The log is cut by copying it up to the fill
 * record (what recovery keeps of a batch written in part), as specs/runtime/ha/stream-decision-boundary.test.ts does.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { openReadOnly, rawFrameBytes, Wal } from '../../wal/index.ts'
import { crashWorld, run, startWorld, tempDataDir, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const leg = (price: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price })

test("a log cut after leg A's fill (its list's trigger and B's cancel lost): the restart cancels B once, sends nothing twice", async () => {
  // One fill per match: A is Filled by its one fill record, so the restart has nothing of A's to read back.
  const venueOptions = { partialFillProbability: 0 }
  const world = await startWorld({ seed: 83, venueOptions })
  worlds.push(world)
  const placed = await world.gateway.placeList(traderA, { type: 'oco', account: 'acct-a', client_list_id: 'torn', orders: [leg('59500'), leg('58000')] }, null)
  if (placed.reply.kind !== 'list_accepted') throw new Error(`expected the list accepted, got ${JSON.stringify(placed.reply)}`)
  const { listId } = placed.reply
  const [a, b] = placed.reply.orderIds as [string, string]
  await run(world, 500)
  const state = () => world.gateway.engine.state
  expect([state().orders.get(a)?.status, state().orders.get(b)?.status]).toEqual(['AckedOpen', 'AckedOpen'])
  // B's cancel must not reach the venue before the power cut: the executor stops, the venue's reports still come in.
  world.gateway.executor.stop()
  world.venue.setReferencePrice('BTC-USD', parseDecimal('59400'))
  await run(world, 500)
  expect(state().orders.get(a)?.status).toBe('Filled')
  expect(state().orders.get(b)?.status).toBe('CancelRequested')
  await crashWorld(world)

  const log = openReadOnly(join(world.dir, 'log'))
  let cut = 0
  for (const frame of log.read(1)) {
    const event = domainEventOf(frame)
    if (cut === 0 && event?.type === 'order.fill' && event.orderId === a) cut = frame.lsn
  }
  expect(cut).toBeGreaterThan(0)
  const next = Array.from(log.read(cut + 1, { toLsn: cut + 2 }), (frame) => domainEventOf(frame)?.type)
  expect(next).toEqual(['order_list.triggered', 'order.cancel_requested'])
  const dir = tempDataDir()
  const replica = Wal.openReplica(join(dir, 'log'), { durability: 'none' })
  for (const frame of log.read(1, { toLsn: cut })) await replica.appendFrames(rawFrameBytes(frame).slice())
  await replica.close()

  const calls = () => world.venue.inspect().requests.calls
  const placesBefore = calls().place
  expect(calls().cancel).toBe(0)
  const restarted = await startWorld({ seed: 83, dir, clock: world.clock, venue: world.venue, venueOptions })
  worlds.push(restarted)
  await run(restarted, 5_000)
  const after = restarted.gateway.engine.state
  // Without the start's repair, B works on alone here (AckedOpen, resting at the venue) under a list never fired.
  expect(after.orders.get(b)?.status).toBe('Canceled')
  expect(after.orderLists.lists.get(listId)?.triggered).toMatchObject({ legOrderId: a, cause: 'fill' })
  const atVenue = world.venue.inspect().orders.filter((order) => order.account === 'acct-a' && order.price === parseDecimal('58000'))
  expect(atVenue.map((order) => order.status)).toEqual(['canceled'])
  expect(calls().cancel).toBe(1)
  expect(calls().place).toBe(placesBefore)
  expect(world.venue.inspect().requests.duplicatePlaces).toBe(0)
  const triggers = Array.from(restarted.gateway.engine.wal.read(1), (frame) => domainEventOf(frame)?.type).filter((type) => type === 'order_list.triggered')
  expect(triggers).toHaveLength(1)

  // Another start on the same log fires nothing more.
  await restarted.gateway.stop()
  const again = await startWorld({ seed: 83, dir, clock: world.clock, venue: world.venue, venueOptions })
  worlds.push(again)
  await run(again, 1_000)
  expect(Array.from(again.gateway.engine.wal.read(1), (frame) => domainEventOf(frame)?.type).filter((type) => type === 'order_list.triggered')).toHaveLength(1)
  expect(calls().cancel).toBe(1)
  expect(calls().place).toBe(placesBefore)
  expect([...world.errors, ...restarted.errors, ...again.errors]).toEqual([])
}, 30_000)
