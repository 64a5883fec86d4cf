/**
 * Format 18 added the cap on ended orders held to the config's params (terminalOrdersHeldMax, src/kernel/retention.ts):
 * this build's snapshot keeps it, and a format 17 section — whose params have none — is still read, with none (no
 * cap), as replaying its log gives: that build recorded none.
 */

import { afterAll, expect, test } from 'bun:test'
import { stateDigest } from '../../../src/kernel/index.ts'
import { encodeKernelState, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V17, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { removeDir, type World } from '../harness.ts'
import { tradedWorld, withoutHeldCapMember, encodeAsFormat20, beforeHoldRule } from './support.ts'

const worlds: World[] = []
afterAll(async () => {
  for (const world of worlds) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

test("format 17's encoding (params without terminalOrdersHeldMax) is still read, with no cap, as replaying its log gives; this build's keeps the cap", async () => {
  // The schema id the build before the cap wrote into its snapshots (format 17), pinned by that build.
  const previous = 'kernel-state/v17/b40afd76fb0f5fcc'
  expect(KERNEL_STATE_SCHEMA_V17).toBe(previous)
  expect(readableKernelSchemas()).toContain(previous)
  const world = await tradedWorld(25, 40, { beforeHeldCap: true })
  worlds.push(world)
  const state = beforeHoldRule(world.gateway.engine.state)
  expect(state.config?.params.terminalOrdersHeldMax).toBeUndefined()
  const { json, idempotency } = encodeAsFormat20(state)
  const v17 = kernelSectionOf(JSON.stringify(withoutHeldCapMember(json)), idempotency)
  const decoded = kernelStateFromBytes(v17, { schema: previous })
  expect(stateDigest(decoded)).toBe(stateDigest(state))
  expect('terminalOrdersHeldMax' in (decoded.config?.params ?? {})).toBe(false)

  // This build's keeps a cap set in the config.
  const config = state.config
  if (config === null) throw new Error('expected a configured kernel')
  state.config = { ...config, params: { ...config.params, terminalOrdersHeldMax: 20_000 } }
  const restored = kernelStateFromBytes(kernelStateBytes(state))
  expect(restored.config?.params.terminalOrdersHeldMax).toBe(20_000)
  expect(stateDigest(restored)).toBe(stateDigest(state))
  // Each encoding is read only under its own id: this build's state is two members longer (holdRule, format 22, and flattens, format 24; the first
  // difference a reader meets).
  expect(() => kernelStateFromBytes(v17)).toThrow(/expected KernelState as an array of 22 fields/)
  expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 19 fields/)
})
