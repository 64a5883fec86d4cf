/**
 * Format 24 holds each flatten's first answer (state.flattens, src/kernel/flatten-held.ts), which a repeat of the flatten
 * answers: a snapshot keeps it, so a restart from one answers a repeat as the first answer. A format 23 (or 22) section
 * is read with none held, as replaying its log gives: those builds wrote no account.flatten_requested with an answer.
 */

import { expect, test } from 'bun:test'
import { heldFlatten, stateDigest } from '../../../src/kernel/index.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V23, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { ACCOUNT, d, Harness, market, ops, T0 } from '../../kernel/fixtures.ts'
import { encodeAsFormat23 } from './support.ts'

function flattened(): Harness {
  const h = Harness.funded()
  h.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'XRP', amount: d('7'), reference: 'config' })
  h.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000'), 'sim:AAPL': market('190') } })
  return h
}

test("this build's snapshot keeps each flatten's first answer, in its order", () => {
  expect(KERNEL_STATE_SCHEMA).not.toBe(KERNEL_STATE_SCHEMA_V23)
  const h = flattened()
  const held = heldFlatten(h.state, ACCOUNT, 'f-1', T0)
  expect(held).toEqual({ lsn: h.state.lastLsn, notClosed: [{ asset: 'XRP', qty: d('7') }], decidedAtMs: T0 })
  const restored = kernelStateFromBytes(kernelStateBytes(h.state))
  expect(heldFlatten(restored, ACCOUNT, 'f-1', T0)).toEqual(held)
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
})

test('a format 23 section is read with no flatten answer held, as replaying its log gives', () => {
  // The schema id of format 23, which the build before wrote and read, pinned by that build.
  expect(KERNEL_STATE_SCHEMA_V23).toBe('kernel-state/v23/42bf0d8e8c29ae47')
  expect(readableKernelSchemas()).toContain(KERNEL_STATE_SCHEMA_V23)
  const h = Harness.funded()
  const { json, idempotency } = encodeAsFormat23(h.state)
  const restored = kernelStateFromBytes(kernelSectionOf(JSON.stringify(json), idempotency), { schema: KERNEL_STATE_SCHEMA_V23 })
  expect(restored.flattens.size).toBe(0)
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
  // Each encoding is read only under its own id: this build's state is one member longer.
  expect(() => kernelStateFromBytes(kernelStateBytes(flattened().state), { schema: KERNEL_STATE_SCHEMA_V23 })).toThrow(/expected KernelState as an array of 20 fields/)
})
