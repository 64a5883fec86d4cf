import { afterAll, describe, expect, test } from 'bun:test'
import { cloneState, initialState, stateDigest } from '../../../src/kernel/index.ts'
import { RETIRE_RULE_UNTOUCHED } from '../../../src/kernel/retention.ts'
import {
  decodeKernelState, encodeKernelState, KERNEL_STATE_FORMAT_VERSION, KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateBytesSliced, kernelStateFromBytes,
  readableKernelSchemas,
} from '../../../src/runtime/snapshot/index.ts'
import { kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { withEvidence } from '../../support/evidence.ts'
import { removeDir, type World } from '../harness.ts'
import { beforeHoldRule, encodeWithFormat12Policies, tradedWorld, withoutOrderExpiry, encodeAsFormat20 } from './support.ts'

const worlds: World[] = []
afterAll(async () => {
  for (const world of worlds) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

/**
 * The state as a build before format 10 kept it: no loosest limit on any order (those builds logged no
 * order.limit_loosest, so replaying their logs gives none either), nor a declined synthetic fill (format 11). A copy;
 * the world's state is left alone.
 */
function asOlderBuildKept(live: ReturnType<typeof initialState>): ReturnType<typeof initialState> {
  const state = beforeHoldRule(live)
  for (const order of state.orders.values()) {
    order.limitLoosest = null
    order.syntheticDeclinedCumQty = null
  }
  return state
}

/** The state as format 10 kept it: no declined synthetic fill (that build logged no order.synthetic_declined). A copy. */
function asFormat10Kept(live: ReturnType<typeof initialState>): ReturnType<typeof initialState> {
  const state = beforeHoldRule(live)
  for (const order of state.orders.values()) order.syntheticDeclinedCumQty = null
  return state
}

function mapOrders(state: ReturnType<typeof initialState>): string[] {
  return [...state.orders.keys()]
}

describe('kernel state encoding', () => {
  test('round trip: the decoded state has the same digest, insertion orders and bytes', async () => {
    await withEvidence(
      { id: 'snapshot.state-codec-roundtrip', kind: 'property', spec: 'specs/runtime/snapshot/state-codec.test.ts', invariant: 'decode(encode(state)) has the digest and iteration order of state, and re-encodes to the same bytes' },
      async () => {
        let cases = 0
        for (const seed of [11, 12, 13]) {
          const world = await tradedWorld(seed)
          worlds.push(world)
          const state = world.gateway.engine.state
          expect(state.orders.size).toBeGreaterThan(10)
          const bytes = kernelStateBytes(state)
          const decoded = kernelStateFromBytes(bytes)
          expect(stateDigest(decoded)).toBe(stateDigest(state))
          expect(mapOrders(decoded)).toEqual(mapOrders(state))
          expect(decoded.queues.map((queue) => [...queue])).toEqual(state.queues.map((queue) => [...queue]))
          for (const [id, order] of state.orders) expect([...(decoded.orders.get(id)?.execIds ?? [])]).toEqual([...order.execIds])
          expect(kernelStateBytes(decoded)).toEqual(bytes)
          // The sliced encoder (what a live snapshot uses) produces the very same bytes.
          const yields: number[] = []
          // Rejected keys sit at positions in the idempotency columns: slices must carry them at the right offset.
          expect([...state.idempotency.values()].some((entry) => entry.outcome === 'rejected')).toBe(true)
          const sliced = await kernelStateBytesSliced(state, { entriesPerSlice: 3, pause: async () => void yields.push(1) })
          expect(sliced).toEqual(bytes)
          expect(yields.length).toBeGreaterThan(5)
          // The decoded state is independent of the original: applying to one never shows in the other.
          const copy = cloneState(decoded)
          expect(stateDigest(copy)).toBe(stateDigest(state))
          cases++
        }
        const empty = initialState()
        expect(stateDigest(kernelStateFromBytes(kernelStateBytes(empty)))).toBe(stateDigest(empty))
        return { cases: cases + 1, seeds: [11, 12, 13] }
      },
    )
  })

  test('bigints survive exactly, including values beyond 2^53', () => {
    const state = initialState()
    state.accounts.set('a', { balances: new Map([['USD', 123456789012345678901234567n], ['BTC', -5n]]), reserved: new Map() })
    const encoded = encodeKernelState(state)
    const decoded = decodeKernelState({ json: JSON.parse(JSON.stringify(encoded.json)), idempotency: encoded.idempotency })
    expect(decoded.accounts.get('a')?.balances.get('USD')).toBe(123456789012345678901234567n)
    expect(decoded.accounts.get('a')?.balances.get('BTC')).toBe(-5n)
  })

  test('anything that is not this encoding is refused with the path of the first problem', () => {
    const { json, idempotency } = encodeKernelState(initialState())
    const good = json as unknown[]
    const wrongWidth = [...good, 1]
    expect(() => decodeKernelState({ json: wrongWidth, idempotency })).toThrow(new RegExp(`state: expected KernelState as an array of ${good.length} fields`))
    const wrongType = [...good]
    wrongType[4] = 'turbo'
    expect(() => decodeKernelState({ json: wrongType, idempotency })).toThrow(/state\.mode: expected one of paper, shadow, live/)
    const badBig = structuredClone(good)
    badBig[6] = [['a', [[['USD', '1.5']], []]]]
    expect(() => decodeKernelState({ json: badBig, idempotency })).toThrow(/state\.accounts\["a"\]\.balances\["USD"\]: expected an integer string/)
    // The section's framing: a JSON length that overruns it, and JSON that is not a state.
    expect(() => kernelStateFromBytes(new Uint8Array([1, 2]))).toThrow(/shorter than the JSON length/)
    expect(() => kernelStateFromBytes(new Uint8Array([200, 0, 0, 0, 91, 93]))).toThrow(/JSON length 200 overruns the 6-byte section/)
    expect(() => kernelStateFromBytes(kernelSectionOf('{"not":"a state"}', idempotency))).toThrow(/expected KernelState/)
    // A valid JSON part followed by idempotency columns cut short.
    expect(() => kernelStateFromBytes(kernelSectionOf(JSON.stringify(good), idempotency.subarray(0, 8)))).toThrow(/state\.idempotency: 8 bytes is shorter than the columns' header/)
  })

  test('the schema id names the format version and a fingerprint of every field', () => {
    expect(KERNEL_STATE_SCHEMA).toMatch(new RegExp(`^kernel-state/v${KERNEL_STATE_FORMAT_VERSION}/[0-9a-f]{16}$`))
    // Pinned: format 26's fields, format 25's plus each order's cumNotionalRemainder (what rounding its fills' notional
    // dropped, for the average fill price: state-codec-v25.test.ts); format 25 pinned before as
    // 'kernel-state/v25/48dc9a14c93c6824', format 24's plus the state's accountSwitches (the accounts stopped on their own:
    // state-codec-v24.test.ts) and a reason on each holding a held flatten answer names
    // (state-codec-v24-flatten-reasons.test.ts); format 24 pinned before as 'kernel-state/v24/024fda6a4c7d6895', format 23's plus the state's flattens (each flatten's first answer), each order's
    // worstPrice and each amend's requestedAtMs (state-codec-v23-*.test.ts; format 24 is unreleased, so its later additions
    // moved this pin, 'kernel-state/v24/ee764b8d6b8c9bdb' before requestedAtMs); format 23 pinned before as 'kernel-state/v23/42bf0d8e8c29ae47', format 22's fields (its hold rule may be 2: state-codec-v22.test.ts); format 22's (format 21's, pinned before, plus each order's syntheticFeeHeld, syntheticHeldQty and
    // …Cash and the state's holdRule — format 22 gained the last three before any build wrote it; format 21 is format
    // 20's plus the params' key window and cap, and the idempotency columns' times; formats 21, 20, 19, 18, 17, 16, 15, 14, 13 and 12 are read: their tests below and in
    // state-codec-v14…v20.test.ts). A change of the encoded fields under the same format number would leave this build unable to
    // read the snapshots the one before wrote under this id: it takes the next number, keeps a reader of this one
    // (state-codec-older.ts) and moves this pin to the list of readable ids.
    expect(KERNEL_STATE_SCHEMA).toBe('kernel-state/v26/fcc58211c705a7d6')
  })

  test("a bootstrap suspect's mark survives the round trip", async () => {
    const world = await tradedWorld(14)
    worlds.push(world)
    const state = cloneState(world.gateway.engine.state)
    const marked = [...state.orders.values()].find((order) => order.status !== 'Unknown')
    if (marked === undefined) throw new Error('expected an order')
    marked.bootstrapSuspect = true
    const decoded = kernelStateFromBytes(kernelStateBytes(state))
    expect(decoded.orders.get(marked.orderId)?.bootstrapSuspect).toBe(true)
    expect(stateDigest(decoded)).toBe(stateDigest(state))
  })

  test("format 7's encoding (orders without the synthetic quantity pending a true-up) is still read, with none pending", async () => {
    // The schema id the build before Order.syntheticPending… wrote into its snapshots (format 7), computed by that build.
    const previous = 'kernel-state/v7/ac193669bb9c3fec'
    expect(readableKernelSchemas()).toEqual([
      KERNEL_STATE_SCHEMA, 'kernel-state/v25/48dc9a14c93c6824', 'kernel-state/v24/024fda6a4c7d6895', 'kernel-state/v23/42bf0d8e8c29ae47', 'kernel-state/v22/42bf0d8e8c29ae47', 'kernel-state/v21/837617b3d7a28613', 'kernel-state/v20/47fc91e054a49cbd', 'kernel-state/v19/d968a2e0fccb9a0c', 'kernel-state/v18/c110dfc2b69d8d90', 'kernel-state/v17/b40afd76fb0f5fcc', 'kernel-state/v16/b9769381ac7aa89d', 'kernel-state/v15/b993d198500a1de5', 'kernel-state/v14/d410436efd190fce', 'kernel-state/v13/a303dc71da9b595b', 'kernel-state/v12/eca15154709c5e1b', 'kernel-state/v11/c7bc48bb67b54cfe', 'kernel-state/v10/1ce779c7f0b26279', 'kernel-state/v9/1bffd40cc20a9e32', 'kernel-state/v8/032eaadf6d7aaa3e', previous, 'kernel-state/v6/939651800303503e', 'kernel-state/v5/fef0fbfd6a1fb66e',
    ])
    const world = await tradedWorld(16, 40, { beforeHeldCap: true })
    worlds.push(world)
    const state = asOlderBuildKept(world.gateway.engine.state)
    const { json, idempotency } = encodeWithFormat12Policies(state)
    // That build's rows: every field of an order but the last five (syntheticPendingQty, …Cash, …Notional, then format
    // 10's limitLoosest and format 11's syntheticDeclinedCumQty).
    const fields = withoutBookLimits(structuredClone(json) as unknown[])
    // Nor the state's venueHealth (format 12): none recorded in these worlds, and none in a log that build wrote.
    expect(fields.pop()).toEqual([])
    const orders = fields[7] as [string, unknown[]][]
    expect(orders.length).toBe(state.orders.size)
    for (const [, row] of orders) expect(row.splice(-5)).toEqual(['0', '0', '0', null, null])
    // Nor the state's retireRule (format 9): a log that build wrote had adopted none.
    expect(fields.pop()).toBe(RETIRE_RULE_UNTOUCHED)
    const v7 = kernelSectionOf(JSON.stringify(fields), idempotency)
    const decoded = kernelStateFromBytes(v7, { schema: previous })
    expect(stateDigest(decoded)).toBe(stateDigest({ ...state, retireRule: null }))
    expect(mapOrders(decoded)).toEqual(mapOrders(state))
    // Each encoding is read only under its own id.
    expect(() => kernelStateFromBytes(v7)).toThrow(/expected KernelState as an array of 22 fields/)
    expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 15 fields/)
  })

  test("format 6's encoding (orders without bootstrapSuspect) is still read, every order unmarked", async () => {
    // The schema id the build before Order.bootstrapSuspect wrote into its snapshots (format 6), computed by that build.
    const previous = 'kernel-state/v6/939651800303503e'
    expect(readableKernelSchemas()).toContain(previous)
    const world = await tradedWorld(15, 40, { beforeHeldCap: true })
    worlds.push(world)
    const state = asOlderBuildKept(world.gateway.engine.state)
    expect([...state.orders.values()].every((order) => !order.bootstrapSuspect)).toBe(true)
    const { json, idempotency } = encodeWithFormat12Policies(state)
    // That build's rows: every field of an order but the last six (bootstrapSuspect, format 8's three, format 10's one,
    // format 11's one).
    const fields = withoutBookLimits(structuredClone(json) as unknown[])
    // Nor the state's venueHealth (format 12): none recorded in these worlds, and none in a log that build wrote.
    expect(fields.pop()).toEqual([])
    const orders = fields[7] as [string, unknown[]][]
    expect(orders.length).toBe(state.orders.size)
    for (const [, row] of orders) expect(row.splice(-6)).toEqual([false, '0', '0', '0', null, null])
    expect(fields.pop()).toBe(RETIRE_RULE_UNTOUCHED)
    const v6 = kernelSectionOf(JSON.stringify(fields), idempotency)
    const decoded = kernelStateFromBytes(v6, { schema: previous })
    expect(stateDigest(decoded)).toBe(stateDigest({ ...state, retireRule: null }))
    expect(mapOrders(decoded)).toEqual(mapOrders(state))
    // Each encoding is read only under its own id.
    expect(() => kernelStateFromBytes(v6)).toThrow(/expected KernelState as an array of 22 fields/)
    expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 15 fields/)
    expect(() => kernelStateFromBytes(v6, { schema: 'kernel-state/v4/0123456789abcdef' })).toThrow(/is not one this build reads/)
  })

  test("format 9's encoding (orders without limitLoosest) is still read, with no loosest limit kept, as replaying its log gives", async () => {
    // The schema id the build before Order.limitLoosest wrote into its snapshots (format 9), computed by that build.
    const previous = 'kernel-state/v9/1bffd40cc20a9e32'
    expect(readableKernelSchemas()).toContain(previous)
    const world = await tradedWorld(17, 40, { beforeHeldCap: true })
    worlds.push(world)
    const state = asOlderBuildKept(world.gateway.engine.state)
    expect(state.orders.size).toBeGreaterThan(0)
    const { json, idempotency } = encodeWithFormat12Policies(state)
    // That build's rows: every field of an order but the last two (limitLoosest, format 11's syntheticDeclinedCumQty);
    // the state's retireRule it had.
    const fields = withoutBookLimits(structuredClone(json) as unknown[])
    // Nor the state's venueHealth (format 12): none recorded in these worlds, and none in a log that build wrote.
    expect(fields.pop()).toEqual([])
    const orders = fields[7] as [string, unknown[]][]
    expect(orders.length).toBe(state.orders.size)
    for (const [, row] of orders) expect(row.splice(-2)).toEqual([null, null])
    const v9 = kernelSectionOf(JSON.stringify(fields), idempotency)
    const decoded = kernelStateFromBytes(v9, { schema: previous })
    expect(stateDigest(decoded)).toBe(stateDigest(state))
    expect(mapOrders(decoded)).toEqual(mapOrders(state))
    // This build's rows keep a loosest limit; each encoding is read only under its own id.
    const amended = [...state.orders.values()][0]
    if (amended === undefined) throw new Error('expected an order')
    amended.limitLoosest = 123n
    expect(kernelStateFromBytes(kernelStateBytes(state)).orders.get(amended.orderId)?.limitLoosest).toBe(123n)
    expect(() => kernelStateFromBytes(v9)).toThrow(/expected KernelState as an array of 22 fields/)
    expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 16 fields/)
  })

  test("format 10's encoding (orders without syntheticDeclinedCumQty) is still read, with none declined, as replaying its log gives", async () => {
    // The schema id the build before Order.syntheticDeclinedCumQty wrote into its snapshots (format 10), computed by that build.
    const previous = 'kernel-state/v10/1ce779c7f0b26279'
    expect(readableKernelSchemas()).toContain(previous)
    const world = await tradedWorld(18, 40, { beforeHeldCap: true })
    worlds.push(world)
    const state = asFormat10Kept(world.gateway.engine.state)
    expect(state.orders.size).toBeGreaterThan(0)
    const { json, idempotency } = encodeWithFormat12Policies(state)
    // That build's rows: every field of an order but the last (syntheticDeclinedCumQty).
    const fields = withoutBookLimits(structuredClone(json) as unknown[])
    // Nor the state's venueHealth (format 12): none recorded in these worlds, and none in a log that build wrote.
    expect(fields.pop()).toEqual([])
    const orders = fields[7] as [string, unknown[]][]
    expect(orders.length).toBe(state.orders.size)
    for (const [, row] of orders) expect(row.splice(-1)).toEqual([null])
    const v10 = kernelSectionOf(JSON.stringify(fields), idempotency)
    const decoded = kernelStateFromBytes(v10, { schema: previous })
    expect(stateDigest(decoded)).toBe(stateDigest(state))
    expect(mapOrders(decoded)).toEqual(mapOrders(state))
    // This build's rows keep a declined venue cumulative quantity; each encoding is read only under its own id.
    const declined = [...state.orders.values()][0]
    if (declined === undefined) throw new Error('expected an order')
    declined.syntheticDeclinedCumQty = 456n
    expect(kernelStateFromBytes(kernelStateBytes(state)).orders.get(declined.orderId)?.syntheticDeclinedCumQty).toBe(456n)
    expect(() => kernelStateFromBytes(v10)).toThrow(/expected KernelState as an array of 22 fields/)
    expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 16 fields/)
  })

  test("format 11's encoding (no venue health) is still read, with none recorded, as replaying its log gives; this build's keeps a venue's level and override", async () => {
    // The schema id the build before KernelState.venueHealth wrote into its snapshots (format 11), computed by that build.
    const previous = 'kernel-state/v11/c7bc48bb67b54cfe'
    expect(readableKernelSchemas()).toContain(previous)
    const world = await tradedWorld(19, 40, { beforeHeldCap: true })
    worlds.push(world)
    const state = beforeHoldRule(world.gateway.engine.state)
    expect(state.orders.size).toBeGreaterThan(0)
    const { json, idempotency } = encodeWithFormat12Policies(state)
    const fields = withoutBookLimits(structuredClone(json) as unknown[])
    expect(fields.pop()).toEqual([])
    const v11 = kernelSectionOf(JSON.stringify(fields), idempotency)
    const decoded = kernelStateFromBytes(v11, { schema: previous })
    expect(stateDigest(decoded)).toBe(stateDigest(state))
    expect(decoded.venueHealth.size).toBe(0)
    state.venueHealth.set('sim', {
      level: 'CRITICAL', score: 12, detail: 'd', sinceMs: 5, lsn: 42, overridesProposed: 1,
      override: { overrideId: 'sim#1', reason: 'r', scope: 'reduce_only', proposedBy: 'a', proposedAtMs: 6, untilMs: 7, approvedBy: 'b', approvedAtMs: 6 },
    })
    const restored = kernelStateFromBytes(kernelStateBytes(state))
    expect(restored.venueHealth.get('sim')).toEqual(state.venueHealth.get('sim'))
    expect(stateDigest(restored)).toBe(stateDigest(state))
    expect(() => kernelStateFromBytes(v11)).toThrow(/expected KernelState as an array of 22 fields/)
    expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 16 fields/)
  })

  test("format 13's encoding (config without the book limits) is still read, with them absent, as replaying its log gives; this build's keeps them", async () => {
    // The schema id the build before the book limits wrote into its snapshots (format 13, a policy's newOrdersBy),
    // pinned by that build.
    const previous = 'kernel-state/v13/a303dc71da9b595b'
    expect(readableKernelSchemas()).toContain(previous)
    const world = await tradedWorld(21, 40, { beforeHeldCap: true })
    worlds.push(world)
    const state = beforeHoldRule(world.gateway.engine.state)
    expect(state.config).not.toBeNull()
    // A policy's newOrdersBy, which format 13 holds, is read back from it.
    const accountId = [...state.policies.keys()][0] as string
    const traders = { ...(state.policies.get(accountId) as NonNullable<ReturnType<typeof state.policies.get>>), newOrdersBy: ['trader' as const] }
    state.policies.set(accountId, traders)
    if (state.config !== null) state.config = { ...state.config, policies: state.config.policies.map((policy) => (policy.accountId === accountId ? traders : policy)) }
    const { json, idempotency } = encodeAsFormat20(state)
    const fields = withoutBookLimits(withoutOrderExpiry(json))
    const v13 = kernelSectionOf(JSON.stringify(fields), idempotency)
    const decoded = kernelStateFromBytes(v13, { schema: previous })
    expect(stateDigest(decoded)).toBe(stateDigest(state))
    expect(decoded.policies.get(accountId)?.newOrdersBy).toEqual(['trader'])
    expect(decoded.config?.policies.find((policy) => policy.accountId === accountId)?.newOrdersBy).toEqual(['trader'])
    expect(decoded.config?.params.touchShareBpsMax).toBeUndefined()
    expect('spreadBpsMax' in (decoded.config?.params ?? {})).toBe(false)
    expect([...decoded.instruments.values()].every((instrument) => !('touchQtyMin' in instrument))).toBe(true)
    // This build's: the limits set in the config and its instruments survive the round trip.
    const config = state.config
    if (config === null) throw new Error('expected a configured kernel')
    const first = config.instruments[0]
    if (first === undefined) throw new Error('expected an instrument')
    const limited = { ...first, touchQtyMin: 5n }
    state.config = { ...config, instruments: [limited, ...config.instruments.slice(1)], params: { ...config.params, spreadBpsMax: 30, touchShareBpsMax: 2_000 } }
    state.instruments.set(`${first.venue}:${first.symbol}`, limited)
    const restored = kernelStateFromBytes(kernelStateBytes(state))
    expect(restored.config).toEqual(state.config)
    expect(restored.instruments.get(`${first.venue}:${first.symbol}`)?.touchQtyMin).toBe(5n)
    expect(stateDigest(restored)).toBe(stateDigest(state))
    expect(() => kernelStateFromBytes(v13)).toThrow(/expected KernelState as an array of 22 fields/)
    expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 17 fields/)
  })

  test("format 12's encoding (policies without newOrdersBy, no book limits) is still read, every kind allowed and the limits off, as replaying its log gives", async () => {
    // The schema id the build before Policy.newOrdersBy wrote into its snapshots (format 12), pinned by that build.
    const previous = 'kernel-state/v12/eca15154709c5e1b'
    expect(readableKernelSchemas()).toContain(previous)
    const world = await tradedWorld(20, 40, { beforeHeldCap: true })
    worlds.push(world)
    const state = beforeHoldRule(world.gateway.engine.state)
    expect(state.policies.size).toBeGreaterThan(0)
    const { json, idempotency } = encodeWithFormat12Policies(state)
    const v12 = kernelSectionOf(JSON.stringify(withoutBookLimits(structuredClone(json) as unknown[])), idempotency)
    const decoded = kernelStateFromBytes(v12, { schema: previous })
    expect(stateDigest(decoded)).toBe(stateDigest(state))
    for (const policy of decoded.policies.values()) expect('newOrdersBy' in policy).toBe(false)
    expect('touchShareBpsMax' in (decoded.config?.params ?? {})).toBe(false)
    expect([...decoded.instruments.values()].every((instrument) => !('touchQtyMin' in instrument))).toBe(true)
    // This build's rows keep a policy's newOrdersBy, in the policies and in the recorded config alike.
    const accountId = [...state.policies.keys()][0] as string
    const traders = { ...(state.policies.get(accountId) as NonNullable<ReturnType<typeof state.policies.get>>), newOrdersBy: ['trader' as const] }
    state.policies.set(accountId, traders)
    if (state.config !== null) state.config = { ...state.config, policies: state.config.policies.map((policy) => (policy.accountId === accountId ? traders : policy)) }
    const restored = kernelStateFromBytes(kernelStateBytes(state))
    expect(restored.policies.get(accountId)?.newOrdersBy).toEqual(['trader'])
    expect(restored.config?.policies.find((policy) => policy.accountId === accountId)?.newOrdersBy).toEqual(['trader'])
    expect(stateDigest(restored)).toBe(stateDigest(state))
    expect(() => kernelStateFromBytes(v12)).toThrow(/expected KernelState as an array of 22 fields/)
    expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: previous })).toThrow(/expected KernelState as an array of 17 fields/)
  })
})

/**
 * A format 16 section's JSON as format 13 and older wrote it: without the order lists and the revocations (its last
 * two fields, format 16's and 15's; none in these states), the config's instrument rows without touchQtyMin (their
 * last member) and its params without spreadBpsMax and touchShareBpsMax (their last two), likewise the instruments map.
 */
function withoutBookLimits(fields: unknown[]): unknown[] {
  expect(fields.pop()).toEqual([])
  expect(fields.pop()).toEqual([[], [], 0])
  const config = fields[1] as [string, unknown[][], unknown, unknown[]] | null
  if (config !== null) {
    for (const row of config[1]) expect(row.pop()).toBeNull()
    expect(config[3].splice(-2)).toEqual([null, null])
  }
  for (const [, row] of fields[2] as [string, unknown[]][]) expect(row.pop()).toBeNull()
  return fields
}
