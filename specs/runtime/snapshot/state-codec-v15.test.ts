/**
 * Format 16 added the order lists (KernelState.orderLists, src/kernel/order-lists/): this build's snapshot keeps them,
 * and a format 15 section — which has none — is still read, with none, as replaying its log gives.
 */

import { afterAll, expect, test } from 'bun:test'
import { stateDigest } from '../../../src/kernel/index.ts'
import { orderListsOf } from '../../../src/domain/order-lists.ts'
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

test("format 15's encoding (no order lists) is still read, with none, as replaying its log gives; this build's keeps them", async () => {
  // The schema id the build before KernelState.orderLists wrote into its snapshots (format 15), pinned by that build.
  const previous = 'kernel-state/v15/b993d198500a1de5'
  expect(readableKernelSchemas()).toContain(previous)
  const world = await tradedWorld(23, 40, { beforeHeldCap: true })
  worlds.push(world)
  const state = beforeHoldRule(world.gateway.engine.state)
  const { json, idempotency } = encodeAsFormat20(state)
  const fields = withoutOrderExpiry(json)
  expect(fields.pop()).toEqual([])
  const v15 = kernelSectionOf(JSON.stringify(fields), idempotency)
  const decoded = kernelStateFromBytes(v15, { schema: previous })
  expect(stateDigest(decoded)).toBe(stateDigest(state))
  expect(decoded.orderLists.lists.size).toBe(0)

  const [a, b, c, e] = [...state.orders.keys()]
  if (a === undefined || b === undefined || c === undefined || e === undefined) throw new Error('expected four orders')
  state.orderLists = orderListsOf(
    new Map([
      ['L1', { listId: 'L1', type: 'oco', accountId: 'acct', listKey: 'k1', bodyDigest: 'd1', principalId: 'alice', legs: [a, b], acceptedAtMs: 1_000, triggered: null, endedAtMs: null }],
      ['L2', { listId: 'L2', type: 'oco', accountId: 'acct', listKey: 'k2', bodyDigest: 'd2', principalId: 'alice', legs: [c, e], acceptedAtMs: 1_001, triggered: { legOrderId: c, cause: 'fill', atMs: 1_002 }, endedAtMs: 1_003 }],
    ]),
  )
  const restored = kernelStateFromBytes(kernelStateBytes(state))
  expect(restored.orderLists).toEqual(state.orderLists)
  expect(restored.orderLists.open).toBe(1)
  expect([...restored.orderLists.byLeg]).toEqual([[a, 'L1'], [b, 'L1']])
  expect(stateDigest(restored)).toBe(stateDigest(state))
  expect(() => kernelStateFromBytes(v15)).toThrow(/expected KernelState as an array of 22 fields/)
  expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 18 fields/)
})
