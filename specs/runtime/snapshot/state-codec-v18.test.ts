/**
 * Format 19 added a market order's protection price to the order (protectionPrice, src/kernel/intake/sent-order.ts):
 * this build's snapshot keeps it, and a format 18 section — whose orders have none — is still read, every order with
 * it null (sent as a plain market order, as that build sent it), as replaying its log gives: that build logged no
 * `order.accepted` with one.
 */

import { afterAll, expect, test } from 'bun:test'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { stateDigest } from '../../../src/kernel/index.ts'
import { encodeKernelState, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V18, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { removeDir, type World } from '../harness.ts'
import { tradedWorld, withoutProtectionMember, encodeAsFormat20, beforeHoldRule } from './support.ts'

const worlds: World[] = []
afterAll(async () => {
  for (const world of worlds) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

test("format 18's encoding (orders without protectionPrice) is still read, with none, as replaying its log gives; this build's keeps it", async () => {
  // The schema id the build before protection wrote into its snapshots (format 18), pinned by that build.
  const previous = 'kernel-state/v18/c110dfc2b69d8d90'
  expect(KERNEL_STATE_SCHEMA_V18).toBe(previous)
  expect(readableKernelSchemas()).toContain(previous)
  const world = await tradedWorld(26, 40, { beforeSelfTrade: true })
  worlds.push(world)
  const state = beforeHoldRule(world.gateway.engine.state)
  expect(state.orders.size).toBeGreaterThan(0)
  const { json, idempotency } = encodeAsFormat20(state)
  const v18 = kernelSectionOf(JSON.stringify(withoutProtectionMember(json)), idempotency)
  const decoded = kernelStateFromBytes(v18, { schema: previous })
  expect(stateDigest(decoded)).toBe(stateDigest(state))
  for (const order of decoded.orders.values()) expect(order.protectionPrice).toBeNull()

  // This build's keeps a protection price.
  const [first] = state.orders.values()
  if (first === undefined) throw new Error('expected an order')
  first.protectionPrice = parseDecimal('61950.5')
  const restored = kernelStateFromBytes(kernelStateBytes(state))
  expect(restored.orders.get(first.orderId)?.protectionPrice).toBe(parseDecimal('61950.5'))
  expect(stateDigest(restored)).toBe(stateDigest(state))
  // Each encoding is read only under its own id: this build's state is two members longer (holdRule, format 22, and flattens, format 24; the first
  // difference a reader meets).
  expect(() => kernelStateFromBytes(v18)).toThrow(/expected KernelState as an array of 22 fields/)
  expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 19 fields/)
})
