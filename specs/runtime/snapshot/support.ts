/** Shared set-up for the snapshot specs: a world with a varied kernel state (fills, rests, cancels, amends, rejects). */

import { expect } from 'bun:test'
import type { Principal } from '../../../src/domain/accounts.ts'
import { cloneState, type KernelState } from '../../../src/kernel/index.ts'
import type { KernelConfig } from '../../../src/domain/kernel-config.ts'
import { encodeKernelState } from '../../../src/runtime/snapshot/index.ts'
import type { EncodedKernelState } from '../../../src/runtime/snapshot/state-codec.ts'
import { order as orderCodec } from '../../../src/runtime/snapshot/state-parts.ts'
import type { Json } from '../../../src/runtime/snapshot/codec-kit.ts'
import { run, startWorld, traderA, traderB, type World } from '../harness.ts'

const SYMBOLS = [
  { symbol: 'BTC-USD', qty: '0.01', near: 60000, tick: 1 },
  { symbol: 'ETH-USD', qty: '0.5', near: 3000, tick: 1 },
  { symbol: 'AAPL', qty: '3', near: 200, tick: 0.01 },
]

/** A deterministic mix of orders: marketable and resting limits, cancels, amends, a few policy rejects. */
export async function trade(world: World, options: { orders: number; tag: string; seed: number }): Promise<void> {
  let random = options.seed >>> 0 || 1
  const next = (): number => {
    random ^= random << 13
    random ^= random >>> 17
    random ^= random << 5
    return (random >>> 0) / 0x1_0000_0000
  }
  const placed: { principal: Principal; orderId: string }[] = []
  for (let index = 0; index < options.orders; index++) {
    const spec = SYMBOLS[index % SYMBOLS.length] as (typeof SYMBOLS)[number]
    const principal = index % 5 === 4 ? traderB : traderA
    const account = principal === traderB ? 'acct-b' : 'acct-a'
    const side = next() < 0.5 ? 'buy' : 'sell'
    // Half marketable, half resting away from the reference; a few fat-finger prices are rejected by the band.
    const offset = next() < 0.5 ? 0.02 : -0.03
    const fat = next() < 0.05 ? 3 : 1
    const raw = spec.near * (side === 'buy' ? 1 + offset : 1 - offset) * fat
    const price = spec.tick >= 1 ? String(Math.round(raw)) : raw.toFixed(2)
    const body = { account, symbol: spec.symbol, side, type: 'limit', qty: spec.qty, price, client_order_id: `${options.tag}-${index}` }
    const result = await world.gateway.place(principal, body, null)
    if (result.reply.kind === 'accepted') placed.push({ principal, orderId: result.reply.orderId })
    if (index % 7 === 3) await run(world, 20)
  }
  await run(world, 100)
  for (const [index, { principal, orderId }] of placed.entries()) {
    if (index % 4 === 1) await world.gateway.cancel(principal, orderId)
    const order = world.gateway.engine.state.orders.get(orderId)
    if (index % 3 === 0 && order !== undefined && order.status === 'AckedOpen') await world.gateway.amend(principal, orderId, { qty: order.qty * 2n, price: null })
  }
  await run(world, 200)
  // A last burst left undrained, so queues and calls in flight are part of the state too.
  for (let index = 0; index < 4; index++) {
    const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price: '2900', client_order_id: `${options.tag}-tail-${index}` }
    await world.gateway.place(traderA, body, null)
  }
}

/**
 * The kernel config as builds before kernel-state format 20 (payload version 9) recorded it: its policies without
 * selfTrade (no self-trade check). A world configured so holds the state an older build's log gives.
 */
export function withoutSelfTrade(config: KernelConfig): KernelConfig {
  return { ...withoutKeyWindow(config), policies: config.policies.map(({ selfTrade: _, ...policy }) => policy) }
}

/**
 * The kernel config as builds before kernel-state format 21 (payload version 11) recorded it: without the idempotency
 * key window and its cap (keys held for good).
 */
/** `config` with the sim's request budget of the builds before s56 (50 a second; the sim's default is now the largest). */
export function withEarlierSimRateLimit(config: KernelConfig): KernelConfig {
  return { ...config, instruments: config.instruments.map((instrument) => (instrument.venue === 'sim' ? { ...instrument, rateLimitPerSecond: 50 } : instrument)) }
}

export function withoutKeyWindow(config: KernelConfig): KernelConfig {
  const { idempotencyKeyHeldMs: _, idempotencyKeysHeldMax: __, ...params } = config.params
  return { ...config, params }
}

/** Where an order's amend is in its row (the same in every format). */
export const AMEND_MEMBER = orderCodec.fields.findIndex(([key]) => key === 'amend')

/**
 * A state's kernel encoding as format 25 wrote it: each order without cumNotionalRemainder, the last of its row (format
 * 26). Those builds kept no such remainder; read back, every order's is 0 (asReadFromFormat25). The older formats'
 * encoders start from it.
 */
export function encodeAsFormat25(state: KernelState): EncodedKernelState {
  const { json, idempotency } = encodeKernelState(state)
  const fields = structuredClone(json) as unknown[]
  for (const [orderId, row] of fields[7] as [string, unknown[]][]) expect(row.pop()).toBe(String(state.orders.get(orderId)?.cumNotionalRemainder))
  return { json: fields as Json, idempotency }
}

/** A copy of `state` as a reader of format 25 or older gives it back: no order holds a remainder of its notional. */
export function asReadFromFormat25(state: KernelState): KernelState {
  const read = cloneState(state)
  for (const order of read.orders.values()) order.cumNotionalRemainder = 0n
  return read
}

/**
 * A state's kernel encoding as format 24 wrote it: without the state's accountSwitches, the last of format 25's fields,
 * empty in a state that build kept (it wrote no account.switch_changed). The older formats' encoders start from it.
 */
export function encodeAsFormat24(state: KernelState): EncodedKernelState {
  const { json, idempotency } = encodeAsFormat25(state)
  const fields = structuredClone(json) as unknown[]
  expect(fields.pop()).toEqual([])
  // Format 24 wrote each holding a held flatten answer names as [asset, qty]: this build's third member, the reason, is
  // null for every holding such a build held (one no instrument trades).
  const flattens = fields.at(-1) as [string, [string, [number, unknown[][], number]][]][]
  for (const [, answers] of flattens) for (const [, answer] of answers) for (const holding of answer[1]) expect(holding.pop()).toBeNull()
  return { json: fields as Json, idempotency }
}

/**
 * A state's kernel encoding as formats 22 and 23 wrote it: without the state's flattens, the last of format 24's fields,
 * empty in a state those builds kept (beforeHoldRule: none held), each order without worstPrice, the
 * last of its row (null on every order a build before it held), and its amend (if any) without requestedAtMs, the last
 * of the amend's. The older formats' encoders start from it. Read back, the amend counts as asked at the order's
 * acceptance (asReadFromFormat23).
 */
export function encodeAsFormat23(state: KernelState): EncodedKernelState {
  const { json, idempotency } = encodeAsFormat24(state)
  const fields = structuredClone(json) as unknown[]
  expect(fields.pop()).toEqual([])
  for (const [orderId, row] of fields[7] as [string, unknown[]][]) {
    expect(row.pop()).toBeNull()
    const amend = row[AMEND_MEMBER] as unknown[] | null
    if (amend !== null) expect(amend.pop()).toBe(state.orders.get(orderId)?.amend?.requestedAtMs)
  }
  return { json: fields as Json, idempotency }
}

/**
 * A copy of `state` as a reader of format 23 or older gives it back: each order's amend asked at the order's
 * acceptance (state-codec-older.ts amendFromV23: those formats did not hold the request's time).
 */
export function asReadFromFormat23(state: KernelState): KernelState {
  const read = cloneState(state)
  for (const order of read.orders.values()) if (order.amend !== null) order.amend = { ...order.amend, requestedAtMs: order.acceptedAtMs }
  return read
}

/**
 * A state's kernel encoding as format 21 wrote it: without the state's holdRule, the last of this build's fields (null
 * in a state those builds kept: beforeHoldRule), and its orders without syntheticFeeHeld, syntheticHeldQty and …Cash,
 * the last members of this build's order rows (format 22), '0' for every order holding none — which is every order
 * those builds held.
 */
export function encodeAsFormat21(state: KernelState): EncodedKernelState {
  const { json, idempotency } = encodeAsFormat23(state)
  const fields = structuredClone(json) as unknown[]
  expect(fields.pop()).toBeNull()
  for (const [, row] of fields[7] as [string, unknown[]][]) expect(row.splice(-3)).toEqual(['0', '0', '0'])
  return { json: fields as Json, idempotency }
}

/**
 * A copy of `state` as a build before the hold rule kept it (kernel-state format 21 and older): no rule adopted (that
 * build logged no kernel.hold_rule_adopted), nothing held for a synthetic quantity — which these worlds' orders hold.
 */
export function beforeHoldRule(state: KernelState): KernelState {
  const older = cloneState(state)
  for (const order of older.orders.values()) expect([order.syntheticHeldQty, order.syntheticHeldCash, order.syntheticFeeHeld]).toEqual([0n, 0n, 0n])
  older.holdRule = null
  // Nor a flatten's answer (format 24): those builds wrote no account.flatten_requested with one.
  older.flattens = new Map()
  return older
}

/**
 * A state's kernel encoding as format 20 wrote it, for the specs that build an older format's section from this
 * build's: its params without the key window's two members (null in a world configured before it: withoutKeyWindow),
 * its idempotency columns without the times that end them.
 */
export function encodeAsFormat20(state: KernelState): EncodedKernelState {
  const { json, idempotency } = encodeAsFormat21(state)
  const fields = structuredClone(json) as unknown[]
  const config = fields[1] as [string, unknown[], unknown[], unknown[]] | null
  if (config !== null) for (let member = 0; member < 2; member++) expect(config[3].pop()).toBeNull()
  const count = new DataView(idempotency.buffer, idempotency.byteOffset, 4).getUint32(0, true)
  return { json: fields as Json, idempotency: idempotency.subarray(0, idempotency.byteLength - count * 8) }
}

/**
 * The kernel config as builds before kernel-state format 18 (payload version 8) recorded it: without the cap on ended
 * orders held (nor, as every build before format 20, a policy's selfTrade). A world configured so holds the state an
 * older build's log gives, for the specs of older formats.
 */
export function withoutHeldCap(config: KernelConfig): KernelConfig {
  const older = withoutSelfTrade(config)
  const { terminalOrdersHeldMax: _, ...params } = older.params
  return { ...older, params }
}

/**
 * A started world that has traded: the state every snapshot spec starts from. `beforeHeldCap`: configured as a build
 * before format 18 (withoutHeldCap), `beforeSelfTrade` as one before format 20 (withoutSelfTrade), for a spec that
 * writes an older format's section from its state.
 */
export async function tradedWorld(seed: number, orders = 40, options: { beforeHeldCap?: boolean; beforeSelfTrade?: boolean } = {}): Promise<World> {
  const configure = options.beforeHeldCap === true ? withoutHeldCap : options.beforeSelfTrade === true ? withoutSelfTrade : null
  const world = await startWorld({ seed, ...(configure === null ? {} : { configure }) })
  await trade(world, { orders, tag: `s${seed}`, seed })
  return world
}

/**
 * A state's kernel encoding as format 12 and older wrote its policies (without newOrdersBy), for the specs that build
 * an older format's section from this build's: this build's policy rows end in newOrdersBy, null when it is unset.
 */
export function encodeWithFormat12Policies(state: KernelState): EncodedKernelState {
  const { json, idempotency } = encodeAsFormat20(state)
  const fields = withoutOrderExpiry(json)
  const config = fields[1] as unknown[] | null
  const rows = [...((config?.[2] as unknown[][] | undefined) ?? []), ...(fields[3] as [string, unknown[]][]).map(([, row]) => row)]
  for (const row of rows) expect(row.pop()).toBeNull()
  return { json: fields as Json, idempotency }
}

/**
 * A state's kernel JSON as format 16 and older wrote its orders (a copy): without expiresAtMs, the last member of this
 * build's order rows (format 17), null for an order without a time-to-live — which is every order those builds held;
 * and without the params' last member (format 18's terminalOrdersHeldMax), null in a world configured before it
 * (tradedWorld's beforeHeldCap).
 */
export function withoutOrderExpiry(json: Json): unknown[] {
  const fields = withoutHeldCapMember(json)
  for (const [, row] of fields[7] as [string, unknown[]][]) expect(row.pop()).toBeNull()
  return fields
}

/**
 * A state's kernel JSON as format 17 wrote it (a copy): its orders without protectionPrice (withoutProtectionMember),
 * its params without the last member, terminalOrdersHeldMax (null: none).
 */
export function withoutHeldCapMember(json: Json): unknown[] {
  const fields = withoutProtectionMember(json)
  const config = fields[1] as [string, unknown[], unknown[], unknown[]] | null
  if (config !== null) expect(config[3].pop()).toBeNull()
  return fields
}

/**
 * A state's kernel JSON as format 18 wrote it (a copy): without protectionPrice, the last member of this build's order
 * rows (format 19), null for every order but a protected market order — which no build before it held (the worlds of
 * these specs place no market orders); and its policies as format 19 wrote them (withoutSelfTradeMember).
 */
export function withoutProtectionMember(json: Json): unknown[] {
  const fields = withoutSelfTradeMember(json)
  for (const [, row] of fields[7] as [string, unknown[]][]) expect(row.pop()).toBeNull()
  return fields
}

/**
 * A state's kernel JSON as format 19 wrote it (a copy): its policy rows — in the recorded config and in the policies
 * map — without selfTrade, their last member (format 20), null in a world configured before it (beforeSelfTrade).
 */
export function withoutSelfTradeMember(json: Json): unknown[] {
  const fields = structuredClone(json) as unknown[]
  const config = fields[1] as [string, unknown[], unknown[][], unknown[]] | null
  const rows = [...(config?.[2] ?? []), ...(fields[3] as [string, unknown[]][]).map(([, row]) => row)]
  expect(rows.length).toBeGreaterThan(0)
  for (const row of rows) expect(row.pop()).toBeNull()
  return fields
}
