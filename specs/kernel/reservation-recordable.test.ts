/**
 * An order (or an amend) whose reservation no log record can hold (over 20 whole digits: domain/recordable-amounts.ts)
 * is refused ORDER_NOTIONAL_LIMIT by the reservation guard. It passed every guard on an account funded past that (a
 * config of absurd limits, an instrument priced near 10^18), and the acceptance then failed the log writer's check:
 * nothing applied, but the client got 500 INTERNAL.
 */

import { expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { ACCOUNT, config, d, Harness, market, policy, T0 } from './fixtures.ts'

const HUGE = '999999999999999999'

/** Funded far past what a record holds, with no notional limit to speak of; the market priced near 10^18. */
function richHarness(): Harness {
  const harness = Harness.funded({ config: config({ policies: [policy({ maxOrderNotional: d('99999999999999999999') })] }) })
  for (let index = 0; index < 2; index++) {
    harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('99999999999999999999'), reference: 'config' })
  }
  return harness
}

test('a place whose reservation no record holds is refused ORDER_NOTIONAL_LIMIT by the reservation guard, and holds nothing', () => {
  const harness = richHarness()
  const decision = harness.place({ qty: '99.99', price: HUGE }, { market: market(HUGE) })
  expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'ORDER_NOTIONAL_LIMIT', guard: 'reservation' })
  const guard = (decision.events[0] as EventOf<'order.rejected'>).decision.guards.at(-1)
  expect(guard?.inputs.recordableMax).toBe('99999999999999999999.99999999')
  expect(harness.reserved('USD')).toBe(0n)
})

test('an amend to a total no record holds is refused the same; the order is unchanged', () => {
  const harness = richHarness()
  const orderId = harness.placedId({ qty: '1', price: HUGE }, { market: market(HUGE) })
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
  const decision = harness.amend(orderId, { qty: '99.99' }, { market: market(HUGE) })
  expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'ORDER_NOTIONAL_LIMIT' })
  expect(harness.order(orderId)).toMatchObject({ qty: d('1'), amend: null })
})
