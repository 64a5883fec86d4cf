/**
 * Acting on an order: cancel (Lane0 — never shed, passes while new orders get 429) and amend. The caller must trade
 * the order's account, or be ops/admin (cancelling reduces risk, so operators may). Answers come after the command's
 * records are durable: 202 with the order's state at that point.
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { amendBodySchema } from '../../domain/orders.ts'
import { canHalt, canTrade, principalOf, type AuthEnv } from '../auth/index.ts'
import { readJson } from '../body.ts'
import { ApiError, parseOrThrow, reasonError } from '../errors.ts'
import { kernelPrincipal } from '../principal.ts'
import type { Services } from '../services.ts'
import { findOrder } from './order-lookup.ts'
import { pathId, requireReady, runCommand } from './support.ts'

/**
 * A cancel takes no options: no body, or `{}`. Anything else is refused rather than ignored — a client sending
 * `{"qty":"0.5"}` to reduce an order, or a body meant for another route, had the whole order canceled (202).
 */
export const CANCEL_BODY_SCHEMA = v.strictObject({})

export function orderActionRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.post('/v1/orders/:id/cancel', (c) => cancelOrder(c, services))
  app.post('/v1/orders/:id/amend', (c) => amendOrder(c, services))
  return app
}

/** The order named in the path, if the caller may act on it (404 if it may not even read it, 403 if only read). */
export function actionableOrder(c: Context<AuthEnv>, services: Services): { orderId: string; accountId: string } {
  const principal = principalOf(c)
  const found = findOrder(services, principal, pathId(c, 'id'))
  if (found.order === null || found.accountId === null) {
    throw reasonError('ORDER_NOT_CANCELABLE', { details: { order_id: found.orderId, detail: 'the order was rejected' } })
  }
  if (!canTrade(principal, found.accountId) && !canHalt(principal)) {
    throw new ApiError('FORBIDDEN', `not allowed to act on orders of account ${found.accountId}`, { details: { account: found.accountId } })
  }
  return { orderId: found.orderId, accountId: found.accountId }
}

async function cancelOrder(c: Context<AuthEnv>, services: Services): Promise<Response> {
  parseOrThrow(CANCEL_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax, emptyAsObject: true }))
  const { orderId } = actionableOrder(c, services)
  requireReady(services)
  const result = await runCommand(c, () => services.gateway.cancel(kernelPrincipal(principalOf(c)), orderId))
  if (result.reply.kind === 'refused') throw reasonError(result.reply.reason, { details: { order_id: orderId, detail: result.reply.detail } })
  const order = services.gateway.engine.state.orders.get(orderId)
  return c.json({ order_id: orderId, state: order?.status ?? null, cancel_requested: true }, 202)
}

/**
 * Amend (replace): a new total qty and/or limit price. Only the order's traders may amend — unlike cancel, an amend
 * can add risk, so operators get 403. 202 with the amend id once the amend is recorded; its outcome streams.
 */
async function amendOrder(c: Context<AuthEnv>, services: Services): Promise<Response> {
  const principal = principalOf(c)
  const body = parseOrThrow(amendBodySchema, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax }))
  const { orderId, accountId } = actionableOrder(c, services)
  if (!canTrade(principal, accountId)) throw new ApiError('FORBIDDEN', `not allowed to trade account ${accountId}`, { details: { account: accountId } })
  requireReady(services)
  const result = await runCommand(c, () => services.gateway.amend(kernelPrincipal(principal), orderId, { qty: body.qty ?? null, price: body.price ?? null }))
  const reply = result.reply
  if (reply.kind === 'refused') throw reasonError(reply.reason, { details: { order_id: orderId, detail: reply.detail } })
  if (reply.kind === 'rejected') throw reasonError(reply.reason, { details: { order_id: orderId, guard: reply.guard } })
  if (reply.kind !== 'amend_accepted') throw new ApiError('INTERNAL', 'internal error', { cause: new Error(`unexpected amend reply ${reply.kind}`) })
  const order = services.gateway.engine.state.orders.get(orderId)
  return c.json({ order_id: orderId, amend_id: reply.amendId, state: order?.status ?? null, amend_stage: order?.amend?.stage ?? null }, 202)
}
