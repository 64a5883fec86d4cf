/**
 * The book rules end to end on the sim venue: its touch sizes are set by the spec (venue options touchLotsMin /
 * touchLotsMax), the limits by the recorded kernel config. On a thin touch an aggressive order is refused
 * DATA_THIN_BOOK, its decision record in the log showing the touch it saw; a passive one goes. The log replays to the
 * live state, re-deciding its commands (redecide) gives the same events, and a restart keeps every decision.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { openReadOnly } from '../../wal/index.ts'
import { formatDecimal, parseDecimal } from '../../src/domain/decimal.ts'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { rebuildState } from '../../src/runtime/snapshot/index.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** BTC-USD needs 0.001 visible at the side taken (10 lots); the sim shows one lot (0.0001) at each side. */
function withTouchQtyMin(config: KernelConfig): KernelConfig {
  return { ...config, instruments: config.instruments.map((instrument) => (instrument.symbol === 'BTC-USD' ? { ...instrument, touchQtyMin: parseDecimal('0.001') } : instrument)) }
}

function body(id: string, price: bigint): Record<string, unknown> {
  return { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: formatDecimal(price), tif: 'GTC', client_order_id: id }
}

test('on the thin touch the sim shows, an aggressive buy is refused DATA_THIN_BOOK and a passive one goes; replay, redecide and restart agree', async () => {
  const world = await startWorld({ seed: 11, commandRecords: true, configure: withTouchQtyMin, venueOptions: { touchLotsMin: 1, touchLotsMax: 1 } })
  worlds.push(world)
  const { gateway, venue } = world
  const quote = venue.referencePrice('BTC-USD')
  if (quote === null || quote.touch === undefined) throw new Error('the sim shows a touch')
  expect(quote.touch.askQty).toBe(parseDecimal('0.0001'))

  const aggressive = await gateway.place(traderA, body('lift', quote.touch.askPrice + parseDecimal('1')), null)
  expect(aggressive.reply).toMatchObject({ kind: 'rejected', reason: 'DATA_THIN_BOOK', guard: 'data_health' })
  const passive = await gateway.place(traderA, body('rest', quote.price - parseDecimal('500')), null)
  expect(passive.reply.kind).toBe('accepted')
  await run(world, 300)
  expect(world.errors).toEqual([])

  await gateway.engine.settled()
  const logDir = join(world.dir, 'log')
  // The decision record (what /explain shows) carries what the rule looked at.
  const events = Array.from(openReadOnly(logDir).read(1), (frame) => domainEventOf(frame))
  const rejected = events.find((event) => event?.type === 'order.rejected')
  if (rejected?.type !== 'order.rejected') throw new Error('the refusal is recorded')
  expect(rejected.decision.guards.find((guard) => guard.guard === 'data_health')).toMatchObject({
    outcome: 'fail',
    reason: 'DATA_THIN_BOOK',
    inputs: { aggressive: true, touchQty: '0.0001', touchQtyMin: '0.001', touchPrice: formatDecimal(quote.touch.askPrice) },
  })
  const rebuilt = rebuildState(openReadOnly(logDir)).state
  expect(stateDigest(rebuilt)).toBe(stateDigest(gateway.engine.state))
  expect(rebuilt.config?.instruments.find((instrument) => instrument.symbol === 'BTC-USD')?.touchQtyMin).toBe(parseDecimal('0.001'))
  const report = redecideLog(logDir)
  expect(report.decisions).toBeGreaterThan(0)
  expect([report.mismatches, report.lastMismatches]).toEqual([0, []])

  const before = stateDigest(gateway.engine.state)
  await gateway.stop()
  const again = await startWorld({ seed: 11, dir: world.dir, clock: world.clock, venue, commandRecords: true, configure: withTouchQtyMin })
  worlds.push(again)
  expect(stateDigest(again.gateway.engine.state)).toBe(before)
})
