/**
 * Format 15 added the token revocations (KernelState.revocations, src/kernel/revocations.ts): this build's snapshot
 * keeps them, and a format 14 section — which has none — is still read, with none, as replaying its log gives.
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

test("format 14's encoding (no revocations) is still read, with none, as replaying its log gives; this build's keeps them", async () => {
  // The schema id the build before KernelState.revocations wrote into its snapshots (format 14), pinned by that build.
  const previous = 'kernel-state/v14/d410436efd190fce'
  expect(readableKernelSchemas()).toContain(previous)
  const world = await tradedWorld(22, 40, { beforeHeldCap: true })
  worlds.push(world)
  const state = beforeHoldRule(world.gateway.engine.state)
  const { json, idempotency } = encodeAsFormat20(state)
  const fields = withoutOrderExpiry(json)
  expect(fields.pop()).toEqual([])
  expect(fields.pop()).toEqual([[], [], 0])
  const v14 = kernelSectionOf(JSON.stringify(fields), idempotency)
  const decoded = kernelStateFromBytes(v14, { schema: previous })
  expect(stateDigest(decoded)).toBe(stateDigest(state))
  expect(decoded.revocations.tokens.size + decoded.revocations.subjects.size).toBe(0)

  state.revocations.tokens.set('t-1', { jti: 't-1', untilMs: 9_000, atMs: 1_000, principalId: 'ada', note: 'leaked', lsn: 40 })
  state.revocations.subjects.set('bot-7', { sub: 'Bot-7', issuedBeforeMs: 1_500, untilMs: 8_000, atMs: 1_500, principalId: 'ada', note: '', lsn: 41 })
  state.revocations.recorded = 2
  const restored = kernelStateFromBytes(kernelStateBytes(state))
  expect(restored.revocations).toEqual(state.revocations)
  expect(stateDigest(restored)).toBe(stateDigest(state))
  expect(() => kernelStateFromBytes(v14)).toThrow(/expected KernelState as an array of 22 fields/)
  expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 17 fields/)
})
