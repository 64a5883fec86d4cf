/**
 * Format 24 adds each order's worstPrice (a plain market order's worst price, which its fills are held to:
 * FILL_PRICE_BEYOND_WORST, specs/kernel/market-worst-price.test.ts). A snapshot keeps it, so a restored gateway
 * decides a fill beyond it as the one that wrote the snapshot did. A format 23 (or 22) section is still read, its orders
 * with no worst price: what replaying its log gives — those builds recorded none.
 */

import { expect, test } from 'bun:test'
import { cloneState, decide, stateDigest } from '../../../src/kernel/index.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V23, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { d, Harness, plainMarketConfig, policy, report } from '../../kernel/fixtures.ts'
import { encodeAsFormat23 } from './support.ts'

/** A plain market buy and sell, open at reference 50 000 (band 5 %): worst prices 52 500 and 47 500. */
function plainMarkets(): { h: Harness; buy: string; sell: string } {
  const h = Harness.funded({ config: plainMarketConfig({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
  const buy = h.openOrder({ side: 'buy', type: 'market', price: undefined, qty: '0.05', client_order_id: 'mb' })
  // Filled in full first: open together, the two would cross (SELF_TRADE_PREVENTED).
  h.report(report(h.order(buy), { execId: 'b0', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05') }))
  const sell = h.openOrder({ side: 'sell', type: 'market', price: undefined, qty: '0.05', client_order_id: 'ms' })
  return { h, buy, sell }
}

function sellFill(h: Harness, sell: string) {
  return { kind: 'venue_report' as const, nowMs: h.nowMs, report: report(h.order(sell), { execId: 's1', kind: 'fill', lastQty: d('0.01'), lastPrice: d('40000'), cumQty: d('0.01') }) }
}

test("a snapshot keeps each plain market order's worst price, and the restored state decides a fill beyond it the same", () => {
  const { h, buy, sell } = plainMarkets()
  const restored = kernelStateFromBytes(kernelStateBytes(h.state))
  expect(restored.orders.get(buy)?.worstPrice).toBe(d('52500'))
  expect(restored.orders.get(sell)?.worstPrice).toBe(d('47500'))
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
  const decided = decide(h.state, sellFill(h, sell))
  expect(decided.events.filter((event) => event.type === 'alert.raised' && event.reason === 'FILL_PRICE_BEYOND_WORST')).toHaveLength(1)
  expect(decide(restored, sellFill(h, sell))).toEqual(decided)
})

test('a format 23 section is read with no worst price: its fills are not held to one, as its log replays', () => {
  expect(KERNEL_STATE_SCHEMA_V23).toBe('kernel-state/v23/42bf0d8e8c29ae47')
  expect(KERNEL_STATE_SCHEMA).not.toBe(KERNEL_STATE_SCHEMA_V23)
  expect(readableKernelSchemas()).toContain(KERNEL_STATE_SCHEMA_V23)
  const { h, sell } = plainMarkets()
  // The state as that build kept it: no order with a worst price (it recorded none).
  const older = cloneState(h.state)
  for (const order of older.orders.values()) order.worstPrice = null
  const { json, idempotency } = encodeAsFormat23(older)
  const restored = kernelStateFromBytes(kernelSectionOf(JSON.stringify(json), idempotency), { schema: KERNEL_STATE_SCHEMA_V23 })
  expect(restored.orders.get(sell)?.worstPrice).toBeNull()
  expect(stateDigest(restored)).toBe(stateDigest(older))
  expect(restored.orders.get(sell)?.reservation).toEqual(h.order(sell).reservation)
  const decided = decide(restored, sellFill(h, sell))
  expect(decided.events.some((event) => event.type === 'order.fill')).toBe(true)
  expect(decided.events.filter((event) => event.type === 'alert.raised')).toEqual([])
  // This build's section is not a format 23 one: it has the flattens, and its orders one member more.
  expect(() => kernelStateFromBytes(kernelStateBytes(h.state), { schema: KERNEL_STATE_SCHEMA_V23 })).toThrow(/expected KernelState as an array of/)
})
