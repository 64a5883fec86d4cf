/**
 * Format 25: a held flatten answer's holdings not closed carry their reason (src/kernel/flatten-close-sizes.ts: what the
 * closes left of an instrument's holding, and the size rule it misses), so a restart from a snapshot answers a repeat
 * with the reasons the first answer gave. A format 24 section, whose holdings had none (each one no instrument trades),
 * is read with them absent, as replaying its log gives: that build wrote no account.flatten_requested naming a reason.
 */

import { expect, test } from 'bun:test'
import type { Json } from '../../../src/runtime/snapshot/codec-kit.ts'
import { heldFlatten, stateDigest } from '../../../src/kernel/index.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V24, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { encodeAsFormat24, encodeAsFormat25 } from './support.ts'
import { ACCOUNT, d, Harness, market, ops, T0 } from '../../kernel/fixtures.ts'

/** Holding 7 XRP (no instrument trades it) and 0.5 AAPL (under its minQty of 1), flattened. */
function flattened(): Harness {
  const h = Harness.funded()
  h.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'XRP', amount: d('7'), reference: 'config' })
  h.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'AAPL', amount: d('-49.5'), reference: 'config' })
  h.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000'), 'sim:AAPL': market('190') } })
  return h
}

test("this build's snapshot keeps the reason of each holding a flatten's answer names", () => {
  const h = flattened()
  const held = heldFlatten(h.state, ACCOUNT, 'f-1', T0)
  expect(held?.notClosed).toEqual([{ asset: 'AAPL', qty: d('0.5'), reason: 'QTY_BELOW_MIN' }, { asset: 'XRP', qty: d('7') }])
  const restored = kernelStateFromBytes(kernelStateBytes(h.state))
  expect(heldFlatten(restored, ACCOUNT, 'f-1', T0)).toEqual(held)
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
})

test('a format 24 section is read, its holdings without a reason, as replaying its log gives', () => {
  // The schema id of format 24, which the build before wrote and read, pinned by that build.
  expect(KERNEL_STATE_SCHEMA_V24).toBe('kernel-state/v24/024fda6a4c7d6895')
  expect(KERNEL_STATE_SCHEMA).not.toBe(KERNEL_STATE_SCHEMA_V24)
  expect(readableKernelSchemas()).toContain(KERNEL_STATE_SCHEMA_V24)
  // A flatten as that build held it: only holdings no instrument trades (the AAPL is closed whole here).
  const h = Harness.funded()
  h.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'XRP', amount: d('7'), reference: 'config' })
  h.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000'), 'sim:AAPL': market('190') } })
  // Format 24 wrote each holding as [asset, qty] (support.ts encodeAsFormat24: no reason, and no accountSwitches).
  const { json, idempotency } = encodeAsFormat24(h.state)
  const restored = kernelStateFromBytes(kernelSectionOf(JSON.stringify(json), idempotency), { schema: KERNEL_STATE_SCHEMA_V24 })
  expect(heldFlatten(restored, ACCOUNT, 'f-1', T0)?.notClosed).toEqual([{ asset: 'XRP', qty: d('7') }])
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
  // Each encoding is read only under its own id.
  expect(() => kernelStateFromBytes(kernelStateBytes(flattened().state), { schema: KERNEL_STATE_SCHEMA_V24 })).toThrow(/KernelState as an array of 21 fields/)
  // Without the accountSwitches format 25 added (its orders as format 25 wrote them), its holdings' reasons are still
  // no format 24's.
  const withReasons = encodeAsFormat25(flattened().state)
  const fields = structuredClone(withReasons.json) as Json[]
  expect(fields.pop()).toEqual([])
  expect(() => kernelStateFromBytes(kernelSectionOf(JSON.stringify(fields), withReasons.idempotency), { schema: KERNEL_STATE_SCHEMA_V24 })).toThrow(/NotClosed/)
})
