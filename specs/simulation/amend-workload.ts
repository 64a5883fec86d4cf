/**
 * The workload's amends (workload.ts act 'amend'): one live order gets a new quantity, a new price or both, from its
 * owner, an operator or someone not allowed to; a refusal SELF_TRADE_PREVENTED is checked against the account's
 * drawn setting (self-trade-checks.ts). Its draws are the ones workload.ts made before it moved here.
 */

import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import type { Reply } from '../../src/kernel/index.ts'
import { EngineOverloadedError } from '../../src/runtime/index.ts'
import type { SimSymbol } from './scenario.ts'
import { checkSelfTradeReply } from './self-trade-checks.ts'
import { actingPrincipal, limitPrice, LOT, openAccepted, type WorkloadContext } from './workload.ts'

/**
 * Amends one live order: a new qty (smaller, larger, below what is filled, off the lot), a new price (near, or far
 * enough to take), or both; usually by its owner, sometimes by an operator or by someone not allowed.
 */
export async function amend(ctx: WorkloadContext): Promise<string> {
  const { state } = ctx.world.gateway.engine
  const open = openAccepted(ctx)
  if (open.length === 0) return 'amend: nothing open'
  const { draw } = ctx
  const orderId = draw.chance(0.5) ? (open[Math.max(0, open.length - 1 - draw.int(0, 5))] as string) : draw.pick(open)
  const order = state.orders.get(orderId)
  if (order === undefined) return 'amend: order vanished'
  const symbol = order.symbol as SimSymbol
  const lot = LOT[symbol] ?? 1n
  const shape = draw.weighted({ qty: 4, price: 4, both: 2 })
  let qty: Units | null = null
  let price: Units | null = null
  if (shape !== 'price') {
    const qtyShape = draw.weighted({ down: 4, up: 3, belowFilled: 1, offLot: 1 })
    const lotsOpen = Number((order.qty - order.cumQty) / lot)
    if (qtyShape === 'down') qty = order.qty - BigInt(lotsOpen > 1 ? draw.int(1, lotsOpen - 1) : 1) * lot
    else if (qtyShape === 'up') qty = order.qty + BigInt(draw.int(1, 50)) * lot
    else if (qtyShape === 'belowFilled') qty = order.cumQty > 0n ? order.cumQty : lot
    else qty = order.qty + lot / 2n + 1n
    if (qty <= 0n) qty = lot
  }
  if (shape !== 'qty' && order.price !== null) price = limitPrice(ctx, symbol, order.side)
  if (qty === null && price === null) qty = order.qty + lot
  const foreign = draw.chance(0.05)
  const principal = actingPrincipal(ctx, order.accountId, { foreign, operatorChance: 0.15 })
  let reply: Reply
  try {
    reply = (await ctx.world.gateway.amend(principal, orderId, { qty, price })).reply
  } catch (error) {
    if (error instanceof EngineOverloadedError) return 'amend shed (log full)'
    throw error
  }
  checkSelfTradeReply(ctx, order.accountId, reply, `an amend of ${orderId}`)
  if (foreign && reply.kind !== 'refused' && reply.kind !== 'rejected') ctx.violation('permissions', `${principal.id} amended ${orderId} of ${order.accountId}: ${JSON.stringify(reply)}`)
  const outcome = reply.kind === 'refused' || reply.kind === 'rejected' ? `${reply.kind} ${reply.reason}` : reply.kind
  ctx.counters[`amend:${outcome.split(' ')[1] ?? outcome}`] = (ctx.counters[`amend:${outcome.split(' ')[1] ?? outcome}`] ?? 0) + 1
  const what = [qty === null ? null : `qty ${formatDecimal(qty)}`, price === null ? null : `price ${formatDecimal(price)}`].filter((part) => part !== null).join(' ')
  return `amend ${orderId} (${order.status}, qty ${formatDecimal(order.qty)} filled ${formatDecimal(order.cumQty)}) to ${what} by ${principal.id} → ${outcome}`
}
