/**
 * A flatten that cancels a leg of an open OCO list fires the list in the same decision: decide.ts adds the list's
 * follow-ups (order_list.triggered) after the flatten's own records. The answer held for a repeat (kernel
 * flatten-held.ts) is the last record of the decision, follow-ups included: counted without them, it was a record inside
 * the decision, the gateway did not find its lsn held and asked the flatten again, and the first caller was answered a
 * repeat (flatten_repeat) of a flatten it had just asked for, after a second decision.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { domainEventOf } from '../../src/runtime/records.ts'
import { rebuildState } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { drive, opsUser, run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const leg = (price: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price })

test("a flatten that fires an OCO list answers the last record of its decision, and its repeat answers the same", async () => {
  const world = await startWorld({ seed: 83 })
  worlds.push(world)
  const { engine } = world.gateway
  const placed = await world.gateway.placeList(traderA, { type: 'oco', account: 'acct-a', client_list_id: 'l', orders: [leg('59000'), leg('58000')] }, null)
  if (placed.reply.kind !== 'list_accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 500)
  for (const orderId of placed.reply.orderIds) expect(engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  const from = engine.appendedLsn + 1

  const first = await drive(world, world.gateway.flatten(opsUser, 'acct-a', 'f-1'))
  expect(first.reply).toEqual({ kind: 'done' })
  // One decision: the flatten's record first, the list's firing last, its lsn the answer.
  const types = [...engine.wal.read(from)].filter((frame) => frame.lsn <= (first.lsn as number)).map((frame) => domainEventOf(frame)?.type)
  expect(types[0]).toBe('account.flatten_requested')
  expect(types.at(-1)).toBe('order_list.triggered')
  expect(engine.state.flattens.get('acct-a')?.get('f-1')?.lsn).toBe(first.lsn as number)

  expect(await drive(world, world.gateway.flatten(opsUser, 'acct-a', 'f-1'))).toEqual({ reply: { kind: 'flatten_repeat', lsn: first.lsn as number, notClosed: [] }, lsn: null })
  await run(world, 500)
  expect([...engine.wal.read(from)].filter((frame) => domainEventOf(frame)?.type === 'account.flatten_requested')).toHaveLength(1)
  // Replay holds the same answer.
  await engine.settled()
  expect(rebuildState(openReadOnly(join(world.dir, 'log'))).state.flattens.get('acct-a')?.get('f-1')?.lsn).toBe(first.lsn as number)
  expect(world.errors).toEqual([])
})
