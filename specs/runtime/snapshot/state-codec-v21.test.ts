/**
 * Format 22 added each order's syntheticFeeHeld (what a sell holds in its quote asset for the fee of its synthetic
 * quantity pending a true-up, src/kernel/reservations.ts syntheticFeeAllowance): this build's snapshot keeps it, and a
 * format 21 section — whose orders have none — is still read, every order holding none, as those builds held none.
 */

import { expect, test } from 'bun:test'
import { stateDigest } from '../../../src/kernel/index.ts'
import { kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V21, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { ACCOUNT, config, d, Harness } from '../../kernel/fixtures.ts'
import { filledSynthetically } from '../../kernel/venue-fixtures.ts'
import { encodeAsFormat21 } from './support.ts'

/** A sell of 1 BTC at 50 000 filled synthetically (holding 50 USD for its fee), and an open buy. */
function heldFee(): { h: Harness; sell: string } {
  const h = new Harness()
  h.run({ kind: 'configure', nowMs: h.nowMs, config: config() })
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'BTC', amount: d('1'), reference: 'config' })
  const sell = h.openOrder({ side: 'sell', qty: '1', price: '50000' })
  filledSynthetically(h, sell)
  h.openOrder({ qty: '0.1', price: '49950', client_order_id: 'c2' })
  return { h, sell }
}

test("this build's snapshot keeps a sell's fee held for its synthetic quantity; format 21's is read with none held", () => {
  const { h, sell } = heldFee()
  expect(h.order(sell).syntheticFeeHeld).toBe(d('50'))
  const restored = kernelStateFromBytes(kernelStateBytes(h.state))
  expect(restored.orders.get(sell)?.syntheticFeeHeld).toBe(d('50'))
  expect(restored.accounts.get(ACCOUNT)?.reserved.get('USD')).toBe(h.reserved('USD'))
  expect(stateDigest(restored)).toBe(stateDigest(h.state))

  // The schema id the build before the fee hold wrote into its snapshots (format 21), pinned by that build.
  const previous = 'kernel-state/v21/837617b3d7a28613'
  expect(KERNEL_STATE_SCHEMA_V21).toBe(previous)
  expect(readableKernelSchemas()).toContain(previous)
  // A state as that build kept it: no fee held (and so none reserved for it).
  const older = kernelStateFromBytes(kernelStateBytes(h.state))
  const order = older.orders.get(sell)
  if (order === undefined) throw new Error('expected the sell')
  Object.assign(order, { syntheticFeeHeld: 0n, syntheticHeldQty: 0n, syntheticHeldCash: 0n })
  older.holdRule = null
  older.accounts.get(ACCOUNT)?.reserved.set('USD', h.reserved('USD') - d('50'))
  const { json, idempotency } = encodeAsFormat21(older)
  const v21 = kernelSectionOf(JSON.stringify(json), idempotency)
  const decoded = kernelStateFromBytes(v21, { schema: previous })
  expect(decoded.orders.get(sell)?.syntheticFeeHeld).toBe(0n)
  expect(decoded.orders.get(sell)?.syntheticHeldQty).toBe(0n)
  expect(decoded.holdRule).toBeNull()
  expect(stateDigest(decoded)).toBe(stateDigest(older))
  // Each encoding is read only under its own id.
  expect(() => kernelStateFromBytes(v21)).toThrow()
  expect(() => kernelStateFromBytes(kernelStateBytes(h.state), { schema: previous })).toThrow()
})
