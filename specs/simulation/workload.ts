/**
 * The seeded workload: what clients and operators do to egress at each step. Mostly valid limit orders of every
 * time in force; some invalid ones (each guard's favourite mistakes); repeats of earlier requests (idempotency);
 * bursts that fill Lane2 while cancels must still go first; cancels (some by the wrong principal); kill switches;
 * flatten; price jumps; and crashes with a restart on the same log, clock and venue.
 */

import type { Principal } from '../../src/domain/accounts.ts'
import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import { isTerminal } from '../../src/domain/states.ts'
import type { KillSwitchAction } from '../../src/domain/modes.ts'
import { idempotencyIndexKey, type Reply } from '../../src/kernel/index.ts'
import { EngineOverloadedError } from '../../src/runtime/index.ts'
import { opsUser, traderA, traderB, type World } from '../runtime/harness.ts'
import type { Draw, Scenario, SimSymbol } from './scenario.ts'
import { amend } from './amend-workload.ts'
import { listAction, type SentList } from './oco-workload.ts'
import { checkSelfTradeReply } from './self-trade-checks.ts'

/** A trader allowed on both accounts, and a principal with no trading role at all. */
export const traderAB: Principal = { id: 'carol', roles: ['trader'], accounts: ['acct-a', 'acct-b'], liveAllowed: false }
export const auditorUser: Principal = { id: 'audrey', roles: ['auditor'], accounts: ['acct-a'], liveAllowed: false }
export const TRADERS: readonly Principal[] = [traderA, traderB, traderAB]

export const TICK: Readonly<Record<SimSymbol, Units>> = { 'BTC-USD': 1_000_000n, 'ETH-USD': 1_000_000n, AAPL: 1_000_000n, 'RND-USD': 100n }
export const LOT: Readonly<Record<SimSymbol, Units>> = { 'BTC-USD': 10_000n, 'ETH-USD': 100_000n, AAPL: 100_000_000n, 'RND-USD': 100_000n }
export const LOTS_MAX: Readonly<Record<SimSymbol, number>> = { 'BTC-USD': 3_000, 'ETH-USD': 3_000, AAPL: 40, 'RND-USD': 3_000 }

export interface PlaceRequest {
  principal: Principal
  body: Record<string, unknown>
  idempotencyKey: string | null
}

export interface SentRequest extends PlaceRequest {
  reply: Reply
}

/** What the workload needs from the run: the world (replaced on restart) and a place to record what it did. */
export interface WorkloadContext {
  world: World
  scenario: Scenario
  /** The symbols the workload trades: scenario.ts SYMBOLS, and RND-USD when the back office is checked. */
  symbols: readonly SimSymbol[]
  draw: Draw
  /** Requests sent, by `${account}\n${key}`: the first answer, for idempotency checks. */
  sent: Map<string, SentRequest>
  /** Every order id egress accepted, in order. */
  accepted: string[]
  counters: Record<string, number>
  /** Reports problems found while acting (e.g. a repeat that got a different answer). */
  violation: (invariant: string, message: string) => void
  crashRestart: () => Promise<void>
  sequence: number
  /** OCO lists sent whose first answer the kernel remembers (oco-workload.ts). */
  lists: SentList[]
  /**
   * Whether orders may carry a time-to-live (ttl_ms) and invalid ones a bad one: false replays the workload of before
   * (SeedOptions.withoutTtl), whose draws did not include them.
   */
  withTtl: boolean
  /**
   * Whether some valid places are market orders (Scenario.marketOrders, in the current workload only): false draws
   * nothing for them, so a seed without them replays as before.
   */
  marketOrders: boolean
}

/**
 * The workload before amends joined it: seeds found by long runs then replay exactly only with these weights (the
 * draw of each step's action depends on the set), so the regression seeds run with them (SeedOptions.withoutAmend).
 */
export const ACTION_WEIGHTS_WITHOUT_AMEND = {
  place: 40,
  burst: 4,
  invalid: 10,
  repeat: 6,
  cancel: 20,
  cancelForeign: 2,
  killSwitch: 3,
  flatten: 1,
  priceJump: 4,
  crash: 2,
  idle: 8,
} as const

/** The workload before OCO lists joined it (SeedOptions.withoutLists), for seeds found then. */
export const ACTION_WEIGHTS_WITHOUT_LISTS = { ...ACTION_WEIGHTS_WITHOUT_AMEND, amend: 12 } as const

export const ACTION_WEIGHTS = { ...ACTION_WEIGHTS_WITHOUT_LISTS, list: 10 } as const

export type ActionKind = keyof typeof ACTION_WEIGHTS

export async function act(ctx: WorkloadContext, kind: ActionKind): Promise<string> {
  ctx.counters[kind] = (ctx.counters[kind] ?? 0) + 1
  switch (kind) {
    case 'place':
      return place(ctx, validPlace(ctx))
    case 'burst':
      return burst(ctx)
    case 'invalid':
      return place(ctx, invalidPlace(ctx))
    case 'repeat':
      return repeat(ctx)
    case 'cancel':
      return cancel(ctx, false)
    case 'cancelForeign':
      return cancel(ctx, true)
    case 'amend':
      return amend(ctx)
    case 'list':
      return listAction(ctx)
    case 'killSwitch':
      return killSwitch(ctx)
    case 'flatten':
      return flatten(ctx)
    case 'priceJump':
      return priceJump(ctx)
    case 'crash':
      await ctx.crashRestart()
      return 'crash + restart'
    case 'idle':
      return 'idle'
  }
}

export function referencePrice(ctx: WorkloadContext, symbol: SimSymbol): Units {
  const reference = ctx.world.venue.referencePrice(symbol)
  if (reference === null) throw new Error(`sim venue has no price for ${symbol}`)
  return reference.price
}

/** A limit price near the reference: mostly a few steps either side, sometimes further, rarely outside the band. */
export function limitPrice(ctx: WorkloadContext, symbol: SimSymbol, side: 'buy' | 'sell'): Units {
  const { draw } = ctx
  const reference = referencePrice(ctx, symbol)
  const tick = TICK[symbol]
  const stepTicks = BigInt(ctx.scenario.venue.priceStepTicksMax)
  const shape = draw.weighted({ near: 6, wide: 3, fat: 1 })
  let offset: Units
  if (shape === 'near') offset = BigInt(draw.int(-5, 5)) * stepTicks * tick
  else if (shape === 'wide') offset = (reference * BigInt(draw.int(-300, 300))) / 10_000n
  else offset = (reference * BigInt(draw.pick([-1, 1]) * draw.int(600, 2_000))) / 10_000n
  // Buys below / sells above the reference rest; the other way they take at once.
  const signed = side === 'buy' ? offset : -offset
  const price = reference + signed
  const rounded = (price / tick) * tick
  return rounded > 0n ? rounded : tick
}

function validPlace(ctx: WorkloadContext, fixed?: { symbol: SimSymbol; principal: Principal; account: string; resting: boolean }): PlaceRequest {
  const { draw } = ctx
  const principal = fixed?.principal ?? draw.pick(TRADERS)
  const account = fixed?.account ?? draw.pick(principal.accounts)
  const symbol = fixed?.symbol ?? draw.pick(ctx.symbols)
  const side = fixed?.resting === true ? 'buy' : draw.pick(['buy', 'sell'] as const)
  const qty = BigInt(draw.int(1, LOTS_MAX[symbol])) * LOT[symbol]
  const reference = referencePrice(ctx, symbol)
  const price = fixed?.resting === true ? ((reference * 9_800n) / 10_000n / TICK[symbol]) * TICK[symbol] : limitPrice(ctx, symbol, side)
  const tif = fixed?.resting === true ? 'GTC' : draw.weighted({ GTC: 5, IOC: 2, FOK: 1, DAY: 2 })
  const body: Record<string, unknown> = { account, symbol, side, type: 'limit', qty: formatDecimal(qty), price: formatDecimal(price), tif }
  if ((tif === 'GTC' || tif === 'DAY') && draw.chance(0.1)) body.post_only = true
  if (draw.chance(0.05)) body.reduce_only = true
  // Short enough that most expire during the run: queued ones end unsent, resting ones are canceled (ttl-checks.ts).
  if (ctx.withTtl && draw.chance(0.2)) body.ttl_ms = draw.int(50, 4_000)
  // A market order (its policy allows them in such a seed): it goes out as a limit at its protection price, IOC.
  if (ctx.marketOrders && fixed?.resting !== true && draw.chance(0.2)) {
    body.type = 'market'
    delete body.price
    delete body.post_only
  }
  return withKey(ctx, { principal, body, idempotencyKey: null })
}

/** Either a client_order_id in the body or an Idempotency-Key header, unique per run. */
function withKey(ctx: WorkloadContext, request: PlaceRequest): PlaceRequest {
  const key = `s${ctx.scenario.seed}-${++ctx.sequence}`
  if (ctx.draw.chance(0.7)) return { ...request, body: { ...request.body, client_order_id: key } }
  return { ...request, idempotencyKey: key }
}

/** One mistake per request, each aimed at a different guard. */
function invalidPlace(ctx: WorkloadContext): PlaceRequest {
  const valid = validPlace(ctx)
  const body = { ...valid.body }
  const mistakes = ['numberQty', 'noPrice', 'symbol', 'account', 'role', 'market', 'tooBig', 'tinyQty', 'postOnlyIoc', 'noKey'] as const
  const mistake = ctx.draw.pick(ctx.withTtl ? [...mistakes, 'badTtl' as const] : mistakes)
  switch (mistake) {
    case 'badTtl':
      body.ttl_ms = ctx.draw.pick([0, -1, 1.5, 86_400_001, '1000'])
      break
    case 'numberQty':
      body.qty = Number(body.qty)
      break
    case 'noPrice':
      delete body.price
      break
    case 'symbol':
      body.symbol = 'DOGE-USD'
      break
    case 'account':
      return { ...valid, principal: traderB, body: { ...body, account: 'acct-a' } }
    case 'role':
      return { ...valid, principal: auditorUser, body: { ...body, account: 'acct-a' } }
    case 'market':
      body.type = 'market'
      delete body.price
      break
    case 'tooBig':
      body.qty = body.symbol === 'AAPL' ? '9000' : body.symbol === 'BTC-USD' ? '90' : '900'
      break
    case 'tinyQty':
      body.qty = body.symbol === 'AAPL' ? '0.5' : '0.00001'
      break
    case 'postOnlyIoc':
      body.post_only = true
      body.tif = 'IOC'
      break
    case 'noKey':
      delete body.client_order_id
      return { ...valid, body, idempotencyKey: null }
  }
  return { ...valid, body }
}

async function place(ctx: WorkloadContext, request: PlaceRequest): Promise<string> {
  let reply: Reply
  try {
    reply = (await ctx.world.gateway.place(request.principal, request.body, request.idempotencyKey)).reply
  } catch (error) {
    if (!(error instanceof EngineOverloadedError)) throw error
    ctx.counters.shedByLog = (ctx.counters.shedByLog ?? 0) + 1
    return 'place shed (log full)'
  }
  const hasKey = request.idempotencyKey !== null || typeof request.body.client_order_id === 'string'
  if (hasKey && !ctx.sent.has(sentKey(request))) ctx.sent.set(sentKey(request), { ...request, reply })
  if (reply.kind === 'accepted' && !reply.duplicate) ctx.accepted.push(reply.orderId)
  checkSelfTradeReply(ctx, String(request.body.account), reply, 'a place')
  const outcome = reply.kind === 'rejected' ? `rejected ${reply.reason}` : reply.kind
  ctx.counters[`reply:${outcome.split(' ')[0] ?? outcome}`] = (ctx.counters[`reply:${outcome.split(' ')[0] ?? outcome}`] ?? 0) + 1
  return `place ${String(request.body.side)} ${String(request.body.qty)} ${String(request.body.symbol)} @${String(request.body.price)} ${String(request.body.tif)} → ${outcome}`
}

/** Many resting buys on one instrument at once: Lane2 fills up (and sheds), so cancels have something to overtake. */
async function burst(ctx: WorkloadContext): Promise<string> {
  const { draw } = ctx
  const symbol = draw.pick(ctx.symbols)
  const principal = draw.pick(TRADERS)
  const account = draw.pick(principal.accounts)
  const count = draw.int(8, 40)
  for (let index = 0; index < count; index++) await place(ctx, validPlace(ctx, { symbol, principal, account, resting: true }))
  // Cancel a few of them (and older orders) right away: their cancels must not wait behind the burst.
  const cancels = draw.int(1, 4)
  for (let index = 0; index < cancels; index++) await cancel(ctx, false)
  return `burst of ${count} resting ${symbol} buys, ${cancels} cancels`
}

/** The same request again (same answer expected), or the same key with a different body (a conflict). */
async function repeat(ctx: WorkloadContext): Promise<string> {
  const earlier = [...ctx.sent.values()]
  if (earlier.length === 0) return 'repeat: nothing sent yet'
  const first = ctx.draw.pick(earlier)
  const conflicting = ctx.draw.chance(0.25)
  const body = conflicting ? { ...first.body, qty: first.body.qty === '1' ? '2' : '1' } : first.body
  const remembered = ctx.world.gateway.engine.state.idempotency.has(indexKey(first))
  let reply: Reply
  try {
    reply = (await ctx.world.gateway.place(first.principal, body, first.idempotencyKey)).reply
  } catch (error) {
    if (error instanceof EngineOverloadedError) return 'repeat shed (log full)'
    throw error
  }
  checkRepeat(ctx, { first, body, reply, conflicting, remembered })
  return `repeat${conflicting ? ' (conflicting body)' : ''} → ${reply.kind}`
}

/** A remembered answer (accepted, or a definite reject) must come back the same; a changed body is a conflict. */
function checkRepeat(
  ctx: WorkloadContext,
  input: { first: SentRequest; body: Record<string, unknown>; reply: Reply; conflicting: boolean; remembered: boolean },
): void {
  const { first, reply, conflicting } = input
  if (!input.remembered) {
    // The first answer was not remembered (a retryable reject): this request was decided afresh, and its body and
    // answer are what the key stands for from now on (if the kernel remembered them).
    if ((reply.kind === 'accepted' || reply.kind === 'rejected') && !reply.duplicate) {
      first.body = input.body
      first.reply = reply
      if (reply.kind === 'accepted') ctx.accepted.push(reply.orderId)
    }
    return
  }
  if (conflicting) {
    if (reply.kind !== 'conflict') ctx.violation('idempotency', `same key, different body answered ${JSON.stringify(reply)} instead of a conflict`)
    return
  }
  const expected = { ...first.reply, duplicate: true }
  if (JSON.stringify(reply) !== JSON.stringify(expected)) {
    ctx.violation('idempotency', `repeat answered ${JSON.stringify(reply)}, first answer was ${JSON.stringify(first.reply)}`)
  }
}

/** The idempotency index key of a request: account and Idempotency-Key (or else client_order_id). */
function sentKey(request: PlaceRequest): string {
  const account = typeof request.body.account === 'string' ? request.body.account : ''
  const key = request.idempotencyKey ?? (typeof request.body.client_order_id === 'string' ? request.body.client_order_id : '')
  return `${account}\n${key}`
}

/** The kernel's idempotency index key of a request (state.ts idempotencyIndexKey; sentKey is the workload's own). */
export function indexKey(request: PlaceRequest): string {
  const account = typeof request.body.account === 'string' ? request.body.account : ''
  return idempotencyIndexKey(account, request.idempotencyKey ?? (typeof request.body.client_order_id === 'string' ? request.body.client_order_id : ''))
}

/** The orders the workload placed that are still open, oldest first. */
export function openAccepted(ctx: WorkloadContext): string[] {
  const { state } = ctx.world.gateway.engine
  return ctx.accepted.filter((orderId) => {
    const order = state.orders.get(orderId)
    return order !== undefined && !isTerminal(order.status)
  })
}

/**
 * Who acts on an order of `accountId`: foreign, someone not allowed to (an auditor, or the other account's trader);
 * else an operator by `operatorChance`, or the order's owner.
 */
export function actingPrincipal(ctx: WorkloadContext, accountId: string, who: { foreign: boolean; operatorChance: number }): Principal {
  if (who.foreign) return ctx.draw.pick([auditorUser, accountId === 'acct-a' ? traderB : traderA])
  return ctx.draw.chance(who.operatorChance) ? opsUser : (TRADERS.find((candidate) => candidate.accounts.includes(accountId)) ?? opsUser)
}

/** Cancels one live order: usually by its owner, sometimes by an operator, or (foreign) by someone not allowed. */
async function cancel(ctx: WorkloadContext, foreign: boolean): Promise<string> {
  const { state } = ctx.world.gateway.engine
  const open = openAccepted(ctx)
  if (open.length === 0) return 'cancel: nothing open'
  // Prefer recent orders: they are the ones still queued or in flight.
  const orderId = ctx.draw.chance(0.6) ? (open[Math.max(0, open.length - 1 - ctx.draw.int(0, 5))] as string) : ctx.draw.pick(open)
  const order = state.orders.get(orderId)
  if (order === undefined) return 'cancel: order vanished'
  const principal = actingPrincipal(ctx, order.accountId, { foreign, operatorChance: 0.2 })
  const { reply } = await ctx.world.gateway.cancel(principal, orderId)
  if (foreign && reply.kind === 'done') ctx.violation('permissions', `${principal.id} canceled ${orderId} of ${order.accountId}`)
  return `cancel ${orderId} (${order.status}) by ${principal.id} → ${reply.kind === 'refused' ? reply.reason : reply.kind}`
}

async function killSwitch(ctx: WorkloadContext): Promise<string> {
  const current = ctx.world.gateway.engine.state.tradingSwitch
  const action: KillSwitchAction = current !== 'normal' && ctx.draw.chance(0.7) ? 'RESUME' : ctx.draw.pick(['HALT', 'CANCEL_ONLY', 'RESUME'] as const)
  const { reply } = await ctx.world.gateway.killSwitch(opsUser, action, `sim step ${ctx.sequence}`)
  return `kill switch ${action} → ${reply.kind}`
}

async function flatten(ctx: WorkloadContext): Promise<string> {
  const account = ctx.draw.pick(['acct-a', 'acct-b'])
  // Sometimes the same flatten id again: it must not close twice.
  const flattenId = ctx.draw.chance(0.3) && (ctx.counters.flatten ?? 0) > 1 ? `f${ctx.scenario.seed}-1` : `f${ctx.scenario.seed}-${ctx.counters.flatten ?? 0}`
  const principal = ctx.draw.chance(0.5) ? opsUser : (TRADERS.find((candidate) => candidate.accounts.includes(account)) ?? opsUser)
  const { reply } = await ctx.world.gateway.flatten(principal, account, flattenId)
  for (const order of ctx.world.gateway.engine.state.orders.values()) {
    if (order.flattenId !== null && !ctx.accepted.includes(order.orderId)) ctx.accepted.push(order.orderId)
  }
  return `flatten ${account} (${flattenId}) by ${principal.id} → ${reply.kind}`
}

/** Moves a price by hand: small moves fill resting orders; big ones (> the jump bound) trip the data-health guard. */
async function priceJump(ctx: WorkloadContext): Promise<string> {
  const symbol = ctx.draw.pick(ctx.symbols)
  const reference = referencePrice(ctx, symbol)
  const bps = ctx.draw.pick([1, -1]) * ctx.draw.pick([20, 100, 300, 1_200])
  const tick = TICK[symbol]
  const price = (((reference * BigInt(10_000 + bps)) / 10_000n / tick) * tick) as Units
  ctx.world.venue.setReferencePrice(symbol, price > 0n ? price : tick)
  return `price ${symbol} ${formatDecimal(reference)} → ${formatDecimal(price)}`
}
