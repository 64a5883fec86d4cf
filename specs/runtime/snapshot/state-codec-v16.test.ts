/**
 * Format 17 added an order's time-to-live (Order.expiresAtMs, src/kernel/ttl.ts): this build's snapshot keeps it, and
 * a format 16 section — whose orders have none — is still read, with none, as replaying its log gives.
 */

import { afterAll, expect, test } from 'bun:test'
import { stateDigest } from '../../../src/kernel/index.ts'
import { encodeKernelState, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { removeDir, type World } from '../harness.ts'
import { tradedWorld, withoutOrderExpiry, encodeAsFormat20, beforeHoldRule } from './support.ts'

const worlds: World[] = []
afterAll(async () => {
  for (const world of worlds) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

test("format 16's encoding (orders without expiresAtMs) is still read, with no time-to-live, as replaying its log gives; this build's keeps it", async () => {
  // The schema id the build before Order.expiresAtMs wrote into its snapshots (format 16), pinned by that build.
  const previous = 'kernel-state/v16/b9769381ac7aa89d'
  expect(readableKernelSchemas()).toContain(previous)
  const world = await tradedWorld(24, 40, { beforeHeldCap: true })
  worlds.push(world)
  const state = beforeHoldRule(world.gateway.engine.state)
  const { json, idempotency } = encodeAsFormat20(state)
  const v16 = kernelSectionOf(JSON.stringify(withoutOrderExpiry(json)), idempotency)
  const decoded = kernelStateFromBytes(v16, { schema: previous })
  expect(stateDigest(decoded)).toBe(stateDigest(state))
  expect([...decoded.orders.values()].every((order) => order.expiresAtMs === null)).toBe(true)

  // This build's rows keep an order's expiry.
  const [first] = [...state.orders.values()]
  if (first === undefined) throw new Error('expected an order')
  first.expiresAtMs = first.acceptedAtMs + 30_000
  const restored = kernelStateFromBytes(kernelStateBytes(state))
  expect(restored.orders.get(first.orderId)?.expiresAtMs).toBe(first.acceptedAtMs + 30_000)
  expect(stateDigest(restored)).toBe(stateDigest(state))
  // Each encoding is read only under its own id: this build's state is two members longer (holdRule, format 22, and flattens, format 24; the first
  // difference a reader meets).
  expect(() => kernelStateFromBytes(v16)).toThrow(/expected KernelState as an array of 22 fields/)
  expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 19 fields/)
})
