/**
 * Format 23 has format 22's fields; its state's holdRule may be 2 (src/kernel/reservations.ts HOLD_RULE_GRACE). The
 * build before reads format 22 and took any hold rule but 1 for none: had this build written its snapshots as format
 * 22, that build would have loaded one and replayed the records after it with synthetic fills holding nothing (a state
 * other than the one decided), never meeting the record of rule 2 it refuses (kernel.hold_rule_adopted version 4).
 * Under the id of format 23 it passes over them. A format 22 section is still read, as format 23's is (format 24 added
 * the flattens' answers and each order's worstPrice: state-codec-v23-*.test.ts).
 */

import { expect, test } from 'bun:test'
import { stateDigest } from '../../../src/kernel/index.ts'
import { HOLD_RULE_GRACE, HOLD_RULE_SYNTHETIC } from '../../../src/kernel/reservations.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V22, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { encodeAsFormat23 } from './support.ts'
import { ACCOUNT, config, d, Harness } from '../../kernel/fixtures.ts'
import { filledSynthetically } from '../../kernel/venue-fixtures.ts'

/** A buy filled synthetically, holding its 50 USD allowance, on a log at `rule`. */
function heldAllowance(rule: number): Harness {
  const h = new Harness()
  h.run({ kind: 'configure', nowMs: h.nowMs, config: config() })
  h.state.holdRule = rule
  h.run({ kind: 'fund', nowMs: h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('50050'), reference: 'config' })
  filledSynthetically(h, h.openOrder({ qty: '1', price: '50000' }))
  expect(h.reserved('USD')).toBe(d('50'))
  return h
}

test("this build's snapshots, whose hold rule may be 2, are not under format 22's id, which the build before reads", () => {
  // The schema id of format 22, which the build before wrote and read, pinned by that build.
  expect(KERNEL_STATE_SCHEMA_V22).toBe('kernel-state/v22/42bf0d8e8c29ae47')
  expect(KERNEL_STATE_SCHEMA).not.toBe(KERNEL_STATE_SCHEMA_V22)
  const h = heldAllowance(HOLD_RULE_GRACE)
  const restored = kernelStateFromBytes(kernelStateBytes(h.state))
  expect(restored.holdRule).toBe(HOLD_RULE_GRACE)
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
})

test('a format 22 section (hold rule 1) is read as a format 23 one', () => {
  expect(readableKernelSchemas()).toContain(KERNEL_STATE_SCHEMA_V22)
  const h = heldAllowance(HOLD_RULE_SYNTHETIC)
  // Written as format 22 wrote it: format 23's fields (no flattens, each order without worstPrice: format 24's).
  const { json, idempotency } = encodeAsFormat23(h.state)
  const restored = kernelStateFromBytes(kernelSectionOf(JSON.stringify(json), idempotency), { schema: KERNEL_STATE_SCHEMA_V22 })
  expect(restored.holdRule).toBe(HOLD_RULE_SYNTHETIC)
  expect(restored.accounts.get(ACCOUNT)?.reserved.get('USD')).toBe(d('50'))
  expect(stateDigest(restored)).toBe(stateDigest(h.state))
})
