/**
 * Format 26 holds each order's cumNotionalRemainder (what rounding its fills' notional to the unit dropped, in 1e-16:
 * src/domain/orders.ts), so an order's avg_fill_price is its exact notional ÷ cumQty after a restart from a snapshot
 * as before it. A format 25 section is read with every remainder 0: those builds kept none, so an order filled before
 * the upgrade shows its average as they showed it. The state digest leaves the field out (kernel/canonical-state.ts):
 * a state read so agrees with the one its log replays to, and replay-verify and the HA digests with it.
 */

import { expect, test } from 'bun:test'
import { orderView } from '../../../src/http/views/order-view.ts'
import { applyInPlace, initialState, stateDigest } from '../../../src/kernel/index.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V25, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { d, Harness, report } from '../../kernel/fixtures.ts'
import { asReadFromFormat25, encodeAsFormat25 } from './support.ts'

/** An order filled 0.0001 at 49999.99995: its notional, 4.999999995, is booked as 5 and the 0.5e-8 kept apart. */
function filledAwkwardly(): { harness: Harness; orderId: string } {
  const harness = Harness.funded()
  const orderId = harness.openOrder()
  harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'f-1', lastQty: d('0.0001'), lastPrice: d('49999.99995'), cumQty: d('0.0001') }))
  const order = harness.order(orderId)
  // −0.5e-8 in units of 1e-16.
  expect([order.cumNotional, order.cumNotionalRemainder]).toEqual([d('5'), -50_000_000n])
  return { harness, orderId }
}

test("this build's snapshot keeps each order's remainder, and the average it shows", () => {
  expect(KERNEL_STATE_SCHEMA).not.toBe(KERNEL_STATE_SCHEMA_V25)
  const { harness, orderId } = filledAwkwardly()
  const restored = kernelStateFromBytes(kernelStateBytes(harness.state))
  expect(restored.orders.get(orderId)?.cumNotionalRemainder).toBe(harness.order(orderId).cumNotionalRemainder)
  expect(orderView(restored.orders.get(orderId)!).avg_fill_price).toBe('49999.99995')
  expect(stateDigest(restored)).toBe(stateDigest(harness.state))
})

test('a format 25 section is read with no remainder: the order shows its average as that build did', () => {
  // The schema id of format 25, which the build before wrote and read, pinned by that build.
  expect(KERNEL_STATE_SCHEMA_V25).toBe('kernel-state/v25/48dc9a14c93c6824')
  expect(readableKernelSchemas()).toContain(KERNEL_STATE_SCHEMA_V25)
  const { harness, orderId } = filledAwkwardly()
  const { json, idempotency } = encodeAsFormat25(harness.state)
  const restored = kernelStateFromBytes(kernelSectionOf(JSON.stringify(json), idempotency), { schema: KERNEL_STATE_SCHEMA_V25 })
  expect(restored.orders.get(orderId)?.cumNotionalRemainder).toBe(0n)
  expect([...restored.orders]).toEqual([...asReadFromFormat25(harness.state).orders])
  expect(orderView(restored.orders.get(orderId)!).avg_fill_price).toBe('50000')
  // Each encoding is read only under its own id: this build's order is one member longer.
  expect(() => kernelStateFromBytes(kernelStateBytes(harness.state), { schema: KERNEL_STATE_SCHEMA_V25 })).toThrow(/expected Order as an array of 52 fields, got array\(53\)/)
})

test('the state digest leaves the remainder out: a state read from format 25 agrees with its replayed log', () => {
  const { harness } = filledAwkwardly()
  const replayed = initialState()
  harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
  expect([...replayed.orders.values()].map((order) => order.cumNotionalRemainder)).toEqual([...harness.state.orders.values()].map((order) => order.cumNotionalRemainder))
  expect(stateDigest(asReadFromFormat25(replayed))).toBe(stateDigest(replayed))
  expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
})
