/**
 * A flatten's closes past each instrument's first (a holding above maxQty, kernel flatten-close-sizes.ts) count against
 * the order bound of a part (decision-parts.ts decisionOrdersMax): the part that records the flatten keeps to the half
 * of the log's queue left for the closes. Bounded only per instrument (100 closes), a holding of more than a hundred
 * maxQty made a decision larger than a small queue takes, and the flatten — a kill switch — was refused OVERLOADED
 * however often it was asked. Now it goes through with as many closes as fit; the rest is named in not_closed
 * (FLATTEN_CLOSES_MAX) for a new flatten to close once these have ended.
 */

import { expect, test } from 'bun:test'
import { parseDecimal } from '../../src/domain/decimal.ts'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { decisionOrdersMax } from '../../src/runtime/decision-parts.ts'
import { drive, opsUser, run, startWorld, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const QUEUE_RECORDS_MAX = 64

/** BTC-USD with a maxQty of 0.01: acct-a's 10 BTC take a thousand closes. */
function withTinyMaxQty(config: KernelConfig): KernelConfig {
  return { ...config, instruments: config.instruments.map((instrument) => (instrument.symbol === 'BTC-USD' ? { ...instrument, maxQty: parseDecimal('0.01') } : instrument)) }
}

test('a holding of a thousand maxQty is flattened within the queue: its first close and ordersMax more, the rest named', async () => {
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX }, configure: withTinyMaxQty })
  worlds.push(world)
  const { engine } = world.gateway
  const extra = decisionOrdersMax(QUEUE_RECORDS_MAX)
  const flattened = await drive(world, world.gateway.flatten(opsUser, 'acct-a', 'f-1'))
  expect(flattened.reply).toEqual({ kind: 'done' })
  const closes = [...engine.state.orders.values()].filter((order) => order.flattenId === 'f-1' && order.symbol === 'BTC-USD')
  expect(closes).toHaveLength(1 + extra)
  const held = engine.state.flattens.get('acct-a')?.get('f-1')
  expect(held?.lsn).toBe(flattened.lsn as number)
  expect(held?.notClosed).toEqual([{ asset: 'BTC', qty: parseDecimal('10') - parseDecimal('0.01') * BigInt(1 + extra), reason: 'FLATTEN_CLOSES_MAX' }])
  await run(world, 2_000)
  expect(world.errors).toEqual([])
})
