/**
 * The workload's order lists (OCO, src/kernel/order-lists/): new lists of two resting limits (two buys below the
 * price, a buy below and a sell above, or two legs drawn like any order, which may take at once), repeats of a list's
 * key (same body: the first answer again, byte for byte; another body: a conflict), a leg cancelled by its owner, and
 * lists the kernel must refuse without recording anything (legs on two symbols, a leg key that already names an
 * order). The legs join `ctx.accepted`, so the ordinary cancels and amends reach them too; oco-checks.ts holds what
 * must stay true of the lists.
 */

import type { Principal } from '../../src/domain/accounts.ts'
import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { heldListIdOf, idempotencyIndexKey, legKeyOf, listIdFor, orderIdFor, type Reply } from '../../src/kernel/index.ts'
import { EngineOverloadedError } from '../../src/runtime/index.ts'
import type { SimSymbol } from './scenario.ts'
import { indexKey, limitPrice, LOT, LOTS_MAX, referencePrice, TICK, TRADERS, type SentRequest, type WorkloadContext } from './workload.ts'
import { checkSelfTradeReply } from './self-trade-checks.ts'

export interface SentList {
  principal: Principal
  body: Record<string, unknown>
  idempotencyKey: string | null
  /** The first answer the kernel remembers (a list accepted, or a leg rejected on record). */
  reply: Reply
}

export async function listAction(ctx: WorkloadContext): Promise<string> {
  const kind = ctx.lists.length === 0 ? 'place' : ctx.draw.weighted({ place: 10, repeat: 3, cancelLeg: 3, refused: 1 })
  ctx.counters[`list:${kind}`] = (ctx.counters[`list:${kind}`] ?? 0) + 1
  if (kind === 'place') return placeList(ctx, newList(ctx))
  if (kind === 'repeat') return repeatList(ctx)
  if (kind === 'cancelLeg') return cancelLeg(ctx)
  return refusedList(ctx)
}

function newList(ctx: WorkloadContext, fixed?: { symbols: [SimSymbol, SimSymbol] }): { principal: Principal; body: Record<string, unknown>; idempotencyKey: string | null } {
  const { draw } = ctx
  const principal = draw.pick(TRADERS)
  const account = draw.pick(principal.accounts)
  const symbol = draw.pick(ctx.symbols)
  const [symbol0, symbol1] = fixed?.symbols ?? [symbol, symbol]
  const shape = draw.weighted({ belowBelow: 3, straddle: 4, drawn: 2 })
  const legs = [leg(ctx, symbol0, shape, 0), leg(ctx, symbol1, shape, 1)].map((body) => ({ account, ...body }))
  const key = `l${ctx.scenario.seed}-${++ctx.sequence}`
  for (const [index, body] of legs.entries()) if (draw.chance(0.15)) (body as Record<string, unknown>).client_order_id = `${key}-leg${index}`
  const body: Record<string, unknown> = { type: 'oco', account, orders: legs }
  if (draw.chance(0.6)) return { principal, body: { ...body, client_list_id: key }, idempotencyKey: null }
  return { principal, body, idempotencyKey: key }
}

/** One leg: resting limits around the price (so the price's walk fills one of them), or drawn like any order. */
function leg(ctx: WorkloadContext, symbol: SimSymbol, shape: 'belowBelow' | 'straddle' | 'drawn', index: number): Record<string, unknown> {
  const { draw } = ctx
  const tick = TICK[symbol]
  const step = BigInt(ctx.scenario.venue.priceStepTicksMax) * tick
  const reference = referencePrice(ctx, symbol)
  let side: 'buy' | 'sell'
  let price: Units
  if (shape === 'belowBelow') {
    side = 'buy'
    price = reference - BigInt(draw.int(1, 4) + index * draw.int(1, 4)) * step
  } else if (shape === 'straddle') {
    side = index === 0 ? 'buy' : 'sell'
    price = side === 'buy' ? reference - BigInt(draw.int(1, 5)) * step : reference + BigInt(draw.int(1, 5)) * step
  } else {
    side = draw.pick(['buy', 'sell'] as const)
    price = limitPrice(ctx, symbol, side)
  }
  price = price > tick ? (price / tick) * tick : tick
  // Sells small: an account holds little of the base asset (INSUFFICIENT_POSITION would reject most of them).
  const qty = BigInt(draw.int(1, Math.max(1, Math.floor(LOTS_MAX[symbol] / (side === 'buy' ? 8 : 40))))) * LOT[symbol]
  const tif = draw.weighted({ GTC: 7, DAY: 2, IOC: 1 })
  return { symbol, side, type: 'limit', qty: formatDecimal(qty), price: formatDecimal(price), tif }
}

function legKeys(body: Record<string, unknown>, idempotencyKey: string | null): string[] {
  const listKey = idempotencyKey ?? (body.client_list_id as string)
  return (body.orders as { client_order_id?: string }[]).map((legBody, index) => legKeyOf(listKey, legBody, index))
}

async function send(ctx: WorkloadContext, request: { principal: Principal; body: Record<string, unknown>; idempotencyKey: string | null }): Promise<Reply | null> {
  try {
    return (await ctx.world.gateway.placeList(request.principal, request.body, request.idempotencyKey)).reply
  } catch (error) {
    if (error instanceof EngineOverloadedError) return null
    throw error
  }
}

async function placeList(ctx: WorkloadContext, request: { principal: Principal; body: Record<string, unknown>; idempotencyKey: string | null }): Promise<string> {
  const account = request.body.account as string
  const keys = legKeys(request.body, request.idempotencyKey)
  const { state } = ctx.world.gateway.engine
  // The ids a new list's legs and the list get now (the kernel decides on the gateway's clock, which the sim holds).
  const legIds = keys.map((key) => state.idempotency.get(idempotencyIndexKey(account, key))?.orderId ?? orderIdFor(state, account, key, ctx.world.gateway.clock.nowMs()))
  const listKey = request.idempotencyKey ?? (request.body.client_list_id as string)
  const listId = heldListIdOf(state, account, listKey) ?? listIdFor(state, account, listKey, legIds[0] as string)
  const listHeld = state.orderLists.lists.has(listId)
  const existed = legIds.map((orderId) => state.orders.has(orderId))
  const reply = await send(ctx, request)
  if (reply === null) return 'list shed (log full)'
  checkSelfTradeReply(ctx, account, reply, 'a list')
  const outcome = reply.kind === 'list_rejected' ? `rejected leg ${reply.leg} ${reply.reason}` : reply.kind === 'refused' ? `refused ${reply.reason}` : reply.kind
  ctx.counters[`listReply:${outcome.split(' ')[0] ?? outcome}`] = (ctx.counters[`listReply:${outcome.split(' ')[0] ?? outcome}`] ?? 0) + 1
  if (reply.kind === 'list_accepted' && !reply.duplicate) {
    ctx.accepted.push(...reply.orderIds)
    ctx.lists.push({ ...request, reply })
  } else if (reply.kind === 'list_rejected' && !reply.duplicate && rejectionRemembered(ctx, account, keys[reply.leg] as string)) {
    ctx.lists.push({ ...request, reply })
  }
  checkNothingElse(ctx, { keys, legIds, existed, reply, listId, listHeld })
  const legs = (request.body.orders as Record<string, unknown>[]).map((body) => `${String(body.side)} ${String(body.qty)} @${String(body.price)} ${String(body.tif)}`).join(' / ')
  return `list ${String((request.body.orders as Record<string, unknown>[])[0]?.symbol)} ${legs} → ${outcome}`
}

/** A refused list records nothing; a rejected one only the rejected leg: no leg order appears but that one. */
function checkNothingElse(ctx: WorkloadContext, input: { keys: string[]; legIds: string[]; existed: boolean[]; reply: Reply; listId: string; listHeld: boolean }): void {
  const { reply } = input
  if (reply.kind === 'list_accepted') return
  const { state } = ctx.world.gateway.engine
  for (const [index, orderId] of input.legIds.entries()) {
    if (input.existed[index] === true || (reply.kind === 'list_rejected' && reply.leg === index)) continue
    if (state.orders.has(orderId)) ctx.violation('oco-lists', `list answered ${JSON.stringify(reply)} yet leg ${index} (${orderId}) was recorded`)
  }
  if (!input.listHeld && state.orderLists.lists.has(input.listId)) {
    ctx.violation('oco-lists', `list answered ${JSON.stringify(reply)} yet ${input.listId} is held`)
  }
}

function rejectionRemembered(ctx: WorkloadContext, account: string, legKey: string): boolean {
  return ctx.world.gateway.engine.state.idempotency.has(idempotencyIndexKey(account, legKey))
}

/** Whether the kernel still remembers the first answer of `list` (a retryable leg rejection is decided afresh). */
function remembered(ctx: WorkloadContext, list: SentList): boolean {
  const account = list.body.account as string
  const reply = list.reply
  if (reply.kind === 'list_accepted') return ctx.world.gateway.engine.state.orderLists.lists.has(reply.listId)
  if (reply.kind === 'list_rejected') return rejectionRemembered(ctx, account, legKeys(list.body, list.idempotencyKey)[reply.leg] as string)
  return false
}

/** The same list again: the first answer, duplicate; with a leg changed (the rejected one, if any), a conflict. */
async function repeatList(ctx: WorkloadContext): Promise<string> {
  const first = ctx.draw.pick(ctx.lists)
  const conflicting = ctx.draw.chance(0.25)
  const orders = (first.body.orders as Record<string, unknown>[]).map((legBody) => ({ ...legBody }))
  const changed = first.reply.kind === 'list_rejected' ? first.reply.leg : ctx.draw.int(0, 1)
  const changedLeg = orders[changed] as Record<string, unknown>
  if (conflicting) changedLeg.qty = changedLeg.qty === '1' ? '2' : '1'
  const body = conflicting ? { ...first.body, orders } : first.body
  const wasRemembered = remembered(ctx, first)
  const reply = await send(ctx, { principal: first.principal, body, idempotencyKey: first.idempotencyKey })
  if (reply === null) return 'list repeat shed (log full)'
  if (wasRemembered) {
    if (conflicting && !(reply.kind === 'refused' && reply.reason === 'IDEMPOTENCY_CONFLICT')) {
      ctx.violation('idempotency', `list repeat with another body answered ${JSON.stringify(reply)}, not a conflict (first ${JSON.stringify(first.reply)})`)
    }
    const expected = JSON.stringify({ ...first.reply, duplicate: true })
    if (!conflicting && JSON.stringify(reply) !== expected) ctx.violation('idempotency', `list repeat answered ${JSON.stringify(reply)}, first answer was ${JSON.stringify(first.reply)}`)
  }
  return `list repeat${conflicting ? ' (conflicting body)' : ''} of ${first.reply.kind === 'list_accepted' ? first.reply.listId : 'a rejected list'} → ${reply.kind === 'refused' || reply.kind === 'list_rejected' ? `${reply.kind} ${reply.reason}` : reply.kind}`
}

/** The owner cancels one leg of a list still open: the list must fire and cancel the other (oco-checks.ts). */
async function cancelLeg(ctx: WorkloadContext): Promise<string> {
  const { state } = ctx.world.gateway.engine
  const open = [...state.orderLists.lists.values()].filter((list) => list.triggered === null)
  if (open.length === 0) return 'list leg cancel: no list open'
  const list = ctx.draw.pick(open)
  const orderId = ctx.draw.pick(list.legs)
  const order = state.orders.get(orderId)
  if (order === undefined || isTerminal(order.status)) return `list leg cancel: ${orderId} ended`
  const principal = TRADERS.find((candidate) => candidate.accounts.includes(list.accountId)) as Principal
  const { reply } = await ctx.world.gateway.cancel(principal, orderId)
  return `cancel leg ${orderId} of ${list.listId} (${order.status}) → ${reply.kind === 'refused' ? reply.reason : reply.kind}`
}

/** Lists the kernel refuses before any leg is decided: legs on two symbols, or a leg key naming another order. */
async function refusedList(ctx: WorkloadContext): Promise<string> {
  const [symbol0, symbol1] = [ctx.draw.pick(ctx.symbols), ctx.draw.pick(ctx.symbols)]
  const request = newList(ctx, { symbols: [symbol0, symbol1] })
  // A key the kernel remembers (an order's): one whose request it never remembered (refused as malformed, say) names no
  // order, so the list would take it, and a later repeat of that request would find the list's leg.
  const remembers = (sent: SentRequest): boolean => ctx.world.gateway.engine.state.idempotency.has(indexKey(sent))
  const single = [...ctx.sent.values()].find((sent) => sent.body.account === request.body.account && typeof sent.body.client_order_id === 'string' && remembers(sent))
  if (symbol0 === symbol1 && single !== undefined) {
    const orders = request.body.orders as Record<string, unknown>[]
    ;(orders[1] as Record<string, unknown>).client_order_id = single.body.client_order_id
  }
  return `refused? ${await placeList(ctx, request)}`
}
