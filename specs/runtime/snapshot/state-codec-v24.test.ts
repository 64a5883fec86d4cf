/**
 * Format 25 holds the accounts stopped on their own (state.accountSwitches, src/kernel/account-switch.ts): a snapshot
 * keeps them, so a restart from one still refuses the stopped account's orders. A format 24 section is read with none,
 * as replaying its log gives: that build wrote no account.switch_changed.
 */

import { expect, test } from 'bun:test'
import { stateDigest } from '../../../src/kernel/index.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V24, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { ACCOUNT, Harness, ops } from '../../kernel/fixtures.ts'
import { encodeAsFormat24 } from './support.ts'

function stopped(): Harness {
  const h = Harness.funded()
  h.run({ kind: 'kill_switch', nowMs: h.nowMs, principal: ops, action: 'CANCEL_ONLY', note: 'auto-stop order_rate: 3 new orders', accountId: ACCOUNT, ordersMax: 10 })
  return h
}

test("this build's snapshot keeps each account's own switch", () => {
  expect(KERNEL_STATE_SCHEMA).not.toBe(KERNEL_STATE_SCHEMA_V24)
  const h = stopped()
  expect(h.state.accountSwitches.get(ACCOUNT)).toEqual({ switch: 'cancel_only', principalId: ops.id, atMs: h.nowMs, note: 'auto-stop order_rate: 3 new orders' })
  const restored = kernelStateFromBytes(kernelStateBytes(h.state))
  expect(restored.accountSwitches).toEqual(h.state.accountSwitches)
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
})

test('a format 24 section is read with no account stopped, as replaying its log gives', () => {
  // The schema id of format 24, which the build before wrote and read, pinned by that build.
  expect(KERNEL_STATE_SCHEMA_V24).toBe('kernel-state/v24/024fda6a4c7d6895')
  expect(readableKernelSchemas()).toContain(KERNEL_STATE_SCHEMA_V24)
  const h = Harness.funded()
  const { json, idempotency } = encodeAsFormat24(h.state)
  const restored = kernelStateFromBytes(kernelSectionOf(JSON.stringify(json), idempotency), { schema: KERNEL_STATE_SCHEMA_V24 })
  expect(restored.accountSwitches.size).toBe(0)
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
  // Each encoding is read only under its own id: this build's state is one member longer.
  expect(() => kernelStateFromBytes(kernelStateBytes(stopped().state), { schema: KERNEL_STATE_SCHEMA_V24 })).toThrow(/expected KernelState as an array of 21 fields/)
})
