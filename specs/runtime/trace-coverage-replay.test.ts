/**
 * The records this build traces beyond an accepted order — a rejected place (order.rejected, payload version 6) and a
 * flatten's closes and cancels — re-decide from their command records with no mismatch (a standby's shadow decides
 * them so), and replay-verify (kernel state and the back office's query model) finds the log clean.
 */

import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { backOfficeOf, backOfficeSectionSource } from '../../src/backoffice/index.ts'
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
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const FLATTEN_TRACE = `00-${'f'.repeat(32)}-${'e'.repeat(16)}-01`

test('a traced rejection and a traced flatten: re-decided and replay-verified clean', async () => {
  let gateway: Gateway | null = null
  const world = await startWorld({ seed: 62, commandRecords: true, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  dirs.push(world.dir)
  backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const body = (id: string, qty: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty, price: '59000', client_order_id: id })
  const rejected = await world.gateway.place(traderA, body('too-big', '900'), null, { traceparent: TRACE })
  expect(rejected.reply.kind).toBe('rejected')
  const resting = await world.gateway.place(traderA, body('rest', '0.01'), null, { traceparent: TRACE })
  expect(resting.reply.kind).toBe('accepted')
  await run(world, 500)
  const flattened = await world.gateway.flatten(opsUser, 'acct-a', 'f-traced', { traceparent: FLATTEN_TRACE })
  expect(flattened.reply.kind).toBe('done')
  await run(world, 2_000)
  await world.gateway.stop()
  expect(world.errors).toEqual([])

  const events = Array.from(openReadOnly(join(world.dir, 'log')).read(1), domainEventOf).filter((event) => event !== null)
  const traceOf = (event: object): string | undefined => (event as { traceparent?: string }).traceparent
  expect(events.filter((event) => event.type === 'order.rejected').map(traceOf)).toEqual([TRACE])
  const closes = events.filter((event) => event.type === 'order.accepted' && event.flattenId === 'f-traced')
  expect(closes.length).toBeGreaterThan(0)
  expect(new Set(closes.map(traceOf))).toEqual(new Set([FLATTEN_TRACE]))
  expect(events.filter((event) => event.type === 'order.cancel_requested').map(traceOf)).toEqual([FLATTEN_TRACE])

  const redecided = redecideLog(join(world.dir, 'log'))
  expect(redecided.mismatches).toBe(0)
  const report = replayVerify(world.dir, { from: 'auto' })
  expect(report.problems).toEqual([])
  expect(report.queryModel?.compared).toBe(true)
  expect(report.ok).toBe(true)
}, 30_000)
