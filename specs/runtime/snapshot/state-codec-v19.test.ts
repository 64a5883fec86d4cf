/**
 * Format 20 added a policy's selfTrade (self-trade prevention per account, src/kernel/intake/self-trade.ts): this
 * build's snapshot keeps it, and a format 19 section — whose policies have none — is still read, every policy without
 * it (no self-trade check), as replaying its log gives: that build recorded no policy with it, and a policy without it
 * decides as the builds before the check did.
 */

import { afterAll, expect, test } from 'bun:test'
import { stateDigest } from '../../../src/kernel/index.ts'
import { encodeKernelState, kernelStateBytes, kernelStateFromBytes, readableKernelSchemas } from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V19, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import type { Policy } from '../../../src/domain/accounts.ts'
import { removeDir, type World } from '../harness.ts'
import { tradedWorld, withoutSelfTradeMember, encodeAsFormat20, beforeHoldRule } from './support.ts'

const worlds: World[] = []
afterAll(async () => {
  for (const world of worlds) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

test("format 19's encoding (policies without selfTrade) is still read, without it, as replaying its log gives; this build's keeps it", async () => {
  // The schema id the build before the per-account switch wrote into its snapshots (format 19), pinned by that build.
  const previous = 'kernel-state/v19/d968a2e0fccb9a0c'
  expect(KERNEL_STATE_SCHEMA_V19).toBe(previous)
  expect(readableKernelSchemas()).toContain(previous)
  const world = await tradedWorld(27, 40, { beforeSelfTrade: true })
  worlds.push(world)
  const state = beforeHoldRule(world.gateway.engine.state)
  expect(state.policies.size).toBeGreaterThan(0)
  const { json, idempotency } = encodeAsFormat20(state)
  const v19 = kernelSectionOf(JSON.stringify(withoutSelfTradeMember(json)), idempotency)
  const decoded = kernelStateFromBytes(v19, { schema: previous })
  expect(stateDigest(decoded)).toBe(stateDigest(state))
  for (const policy of decoded.policies.values()) expect('selfTrade' in policy).toBe(false)
  for (const policy of decoded.config?.policies ?? []) expect('selfTrade' in policy).toBe(false)

  // This build's keeps each setting, in the policies and in the recorded config alike.
  const [first, second] = [...state.policies.values()]
  if (first === undefined || second === undefined || state.config === null) throw new Error('expected two configured policies')
  const settings = new Map<string, Policy>([
    [first.accountId, { ...first, selfTrade: 'allow' }],
    [second.accountId, { ...second, selfTrade: 'reject' }],
  ])
  for (const [accountId, policy] of settings) state.policies.set(accountId, policy)
  state.config = { ...state.config, policies: state.config.policies.map((policy) => settings.get(policy.accountId) ?? policy) }
  const restored = kernelStateFromBytes(kernelStateBytes(state))
  expect(restored.policies.get(first.accountId)?.selfTrade).toBe('allow')
  expect(restored.policies.get(second.accountId)?.selfTrade).toBe('reject')
  expect(restored.config).toEqual(state.config)
  expect(stateDigest(restored)).toBe(stateDigest(state))
  // Each encoding is read only under its own id: this build's state is two members longer (holdRule, format 22, and flattens, format 24; the first
  // difference a reader meets).
  expect(() => kernelStateFromBytes(v19)).toThrow(/expected KernelState as an array of 22 fields/)
  expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 19 fields/)
})
