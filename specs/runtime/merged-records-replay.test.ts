/**
 * Where the session's record changes meet: a log holding traced order records (payload version 4), a kill switch that
 * ends queued work, and an emergency override's lapse (venue.override_lapsed, 260) re-decides from its command records
 * with no mismatch, and replay-verify (kernel state and the back office's query model) finds it clean.
 */

import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { backOfficeOf, backOfficeSectionSource } from '../../src/backoffice/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { replayVerify } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { opsUser, removeDir, run, startWorld, traderA } from './harness.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})
const ada: Principal = { id: 'ada', roles: ['admin'], accounts: [], liveAllowed: false }
const bea: Principal = { id: 'bea', roles: ['admin'], accounts: [], liveAllowed: false }
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

test('traced orders, a kill switch ending queued places, and a lapse: re-decided and replay-verified clean', async () => {
  let gateway: Gateway | null = null
  const world = await startWorld({ seed: 61, commandRecords: true, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  dirs.push(world.dir)
  backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const body = (id: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: id })
  const resting = await world.gateway.place(traderA, body('rest'), null, { traceparent: TRACE })
  expect(resting.reply.kind).toBe('accepted')
  await run(world, 500)
  // In one batch: the place is queued when HALT is decided, and ended by it.
  const [queued, halted] = await Promise.all([world.gateway.place(traderA, body('queued'), null, { traceparent: TRACE }), world.gateway.killSwitch(opsUser, 'HALT', 'drill')])
  expect([queued.reply.kind, halted.reply.kind]).toEqual(['accepted', 'done'])
  await run(world, 200)
  await world.gateway.killSwitch(opsUser, 'RESUME', 'drill over')
  const orderId = resting.reply.kind === 'accepted' ? resting.reply.orderId : ''
  await world.gateway.cancel(traderA, orderId, { traceparent: TRACE })
  await world.gateway.venueOverride({ op: 'propose', principal: ada, venue: 'sim', reason: 'drill', durationMs: 2_000, scope: 'all' })
  await world.gateway.venueOverride({ op: 'approve', principal: bea, venue: 'sim', overrideId: 'sim#1' })
  await run(world, 3_000)
  await world.gateway.stop()
  expect(world.errors).toEqual([])

  const events = Array.from(openReadOnly(join(world.dir, 'log')).read(1), domainEventOf).filter((event) => event !== null)
  const types = events.map((event) => event.type)
  expect(types).toContain('venue.override_lapsed')
  expect(events.filter((event) => event.type === 'order.canceled').map((event) => event.type === 'order.canceled' && event.reason)).toContain('KILL_SWITCH_HALT')
  expect(events.some((event) => 'traceparent' in event)).toBe(true)

  const redecided = redecideLog(join(world.dir, 'log'))
  expect(redecided.mismatches).toBe(0)
  const report = replayVerify(world.dir, { from: 'auto' })
  expect(report.problems).toEqual([])
  expect(report.queryModel?.compared).toBe(true)
  expect(report.ok).toBe(true)
}, 30_000)
