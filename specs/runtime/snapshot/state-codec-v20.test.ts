/**
 * Format 21 added the idempotency key window and its cap to the params, and each idempotency entry's decidedAtMs to the
 * columns (src/kernel/key-window.ts): this build's snapshot keeps them, and a format 20 section — whose params have
 * neither and whose columns have no times — is still read, keys held for good and every entry decided at 0, as
 * replaying its log gives for all that decides anything: that build recorded no window, and without one an entry's time
 * decides nothing (the digest leaves it out).
 */

import { afterAll, expect, test } from 'bun:test'
import { cloneState, stateDigest } from '../../../src/kernel/index.ts'
import { kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V20, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { removeDir, type World } from '../harness.ts'
import { encodeAsFormat20, tradedWorld, beforeHoldRule } from './support.ts'

const worlds: World[] = []
afterAll(async () => {
  for (const world of worlds) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

test("format 20's encoding (no key window, no times) is still read, keys held for good, as replaying its log gives; this build's keeps both", async () => {
  // The schema id the build before the key window wrote into its snapshots (format 20), pinned by that build.
  const previous = 'kernel-state/v20/47fc91e054a49cbd'
  expect(KERNEL_STATE_SCHEMA_V20).toBe(previous)
  expect(readableKernelSchemas()).toContain(previous)
  const older = await tradedWorld(28, 40, { beforeSelfTrade: true })
  worlds.push(older)
  const state = beforeHoldRule(older.gateway.engine.state)
  expect(state.idempotency.size).toBeGreaterThan(0)
  const { json, idempotency } = encodeAsFormat20(state)
  const v20 = kernelSectionOf(JSON.stringify(json), idempotency)
  const decoded = kernelStateFromBytes(v20, { schema: previous })
  expect(stateDigest(decoded)).toBe(stateDigest(state))
  expect(decoded.config?.params.idempotencyKeyHeldMs).toBeUndefined()
  expect(decoded.config?.params.idempotencyKeysHeldMax).toBeUndefined()
  for (const entry of decoded.idempotency.values()) expect(entry.decidedAtMs).toBe(0)

  // This build's keeps the window, the cap and each entry's time.
  const current = await tradedWorld(29, 40)
  worlds.push(current)
  const held = cloneState(current.gateway.engine.state)
  expect(held.config?.params.idempotencyKeyHeldMs).toBe(86_400_000)
  const restored = kernelStateFromBytes(kernelStateBytes(held))
  expect(restored.config).toEqual(held.config)
  expect([...restored.idempotency]).toEqual([...held.idempotency])
  expect(new Set([...restored.idempotency.values()].map((entry) => entry.decidedAtMs)).has(0)).toBe(false)
  expect(stateDigest(restored)).toBe(stateDigest(held))
  // Each encoding is read only under its own id.
  expect(() => kernelStateFromBytes(v20)).toThrow()
  expect(() => kernelStateFromBytes(kernelStateBytes(held), { schema: previous })).toThrow()
})
