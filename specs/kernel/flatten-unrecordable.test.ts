/**
 * A flatten of a position past the largest amount a record holds. A balance adds up fills and fundings, each within
 * the record bound (src/domain/recordable-amounts.ts), with no bound on the sum, so a position can pass 20 whole
 * digits. Flatten's closing order for it made the log's writer assert (Harness.run encodes each event as the engine
 * does); it is now refused with FLATTEN_POSITION_UNRECORDABLE before anything is decided.
 */

import { expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { RECORD_UNITS_MAX } from '../../src/domain/recordable-amounts.ts'
import { FLATTEN_CLOSES_PER_INSTRUMENT_MAX } from '../../src/kernel/index.ts'
import { ACCOUNT, Harness, market, ops, T0 } from './fixtures.ts'

function fundBtc(harness: Harness, amount: bigint, reference: string): void {
  harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount, reference })
}

function flatten(harness: Harness, flattenId: string) {
  return harness.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId, markets: { 'sim:BTC-USD': market('50000'), 'sim:AAPL': market('190') } })
}

test('a flatten whose position to close is past what a record holds is refused, and nothing changes', () => {
  const harness = Harness.funded()
  const open = harness.openOrder({ client_order_id: 'o', qty: '0.01' })
  fundBtc(harness, RECORD_UNITS_MAX, 'top-up')
  const lastLsn = harness.state.lastLsn
  const decision = flatten(harness, 'f-1')
  expect(decision.events).toEqual([])
  expect(decision.reply).toMatchObject({ kind: 'refused', reason: 'FLATTEN_POSITION_UNRECORDABLE', detail: expect.stringContaining('acct-1 sim:BTC-USD') })
  expect(harness.state.lastLsn).toBe(lastLsn)
  expect(harness.order(open).status).toBe('AckedOpen')
})

test('a position of exactly the largest amount a record holds is closed as far as one flatten closes, the rest named', () => {
  const harness = Harness.funded()
  // 2 BTC funded already: this makes the balance the bound itself.
  fundBtc(harness, RECORD_UNITS_MAX - 2n * 100_000_000n, 'top-up')
  const decision = flatten(harness, 'f-2')
  expect(decision.reply).toEqual({ kind: 'done' })
  const closes = decision.events.filter((event) => event.type === 'order.accepted' && event.symbol === 'BTC-USD')
  // Closes of BTC-USD's maxQty (100 BTC), as many as one flatten sends; what is left is named (flatten-close-sizes.ts).
  const maxQty = 100n * 100_000_000n
  expect(closes).toHaveLength(FLATTEN_CLOSES_PER_INSTRUMENT_MAX)
  expect(closes.every((close) => close.type === 'order.accepted' && close.qty === maxQty)).toBe(true)
  const requested = decision.events[0] as EventOf<'account.flatten_requested'>
  expect(requested.notClosed).toEqual([{ asset: 'BTC', qty: RECORD_UNITS_MAX - maxQty * BigInt(FLATTEN_CLOSES_PER_INSTRUMENT_MAX), reason: 'FLATTEN_CLOSES_MAX' }])
})
