/**
 * Acting on an order: cancel (Lane0 — never shed, passes while new orders get 429) and amend. The caller must trade
 * the order's account, or be ops/admin (cancelling reduces risk, so operators may). Answers come after the command's
 * records are durable: 202 with the order's state at that point.
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { instrumentKey } from '../../domain/instruments.ts'
import { amendBodySchema, type AmendBody, type Order } from '../../domain/orders.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
import { canHalt, canTrade, principalOf, type AuthEnv } from '../auth/index.ts'
import { readJson } from '../body.ts'
import { ApiError, parseOrThrow, reasonError } from '../errors.ts'
import { kernelPrincipal } from '../principal.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'
import { findOrderRef } from './order-lookup.ts'
import { standbyRefusal, standbyUnavailable } from './place-admission.ts'
import { refuseIfDiskLow } from '../disk/index.ts'
import { requestTrace } from '../trace.ts'
import { admitFor, appliedDurable, pathId, refusedUndone, requireReady, runCommand, shedError } from './support.ts'

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

/** What acting on an order needs: who besides the account's traders may, and the 409 for an order the kernel rejected. */
export interface OrderAction {
  /** Ops and admin may cancel (it reduces risk); an amend can add risk, so it is the traders' alone. */
  operatorsMayAct: boolean
  notActionable: ReasonCode
}

const CANCEL: OrderAction = { operatorsMayAct: true, notActionable: 'ORDER_NOT_CANCELABLE' }
const AMEND: OrderAction = { operatorsMayAct: false, notActionable: 'ORDER_NOT_AMENDABLE' }

/**
 * The order named in the path, if the caller may act on it: 404 if it may not even read it, 403 if only read, then
 * the action's own 409 (ORDER_NOT_CANCELABLE, ORDER_NOT_AMENDABLE) for an order the kernel rejected or retired. Who may act is
 * asked first, so a caller who may not act gets its 403 whatever became of the order.
 */
export function actionableOrder(c: Context<AuthEnv>, services: Services, action: OrderAction): { orderId: string; accountId: string; instrument: string } {
  const principal = principalOf(c)
  const found = findOrderRef(services, principal, pathId(c, 'id'))
  const account = found.accountId
  // An order of no account (its body failed syntax) is no trader's: only operators, where the action allows them.
  const operator = action.operatorsMayAct && canHalt(principal)
  if (!operator && (account === null || !canTrade(principal, account))) {
    throw new ApiError('FORBIDDEN', account === null ? `not allowed to act on order ${found.orderId}` : `not allowed to act on orders of account ${account}`, {
      details: account === null ? { order_id: found.orderId } : { account },
    })
  }
  if (found.instrument === null || account === null) throw reasonError(action.notActionable, { details: { order_id: found.orderId, detail: 'the order was rejected' } })
  // Retired (ended, and past the kernel's bound: kernel/retention.ts): the kernel no longer knows it and answered
  // 404, while GET showed it in its final state; its state is not read here (that is its whole history).
  if (found.held === null) throw reasonError(action.notActionable, { details: { order_id: found.orderId, detail: 'the order has ended (retired from the hot state: GET shows its final state)' } })
  return { orderId: found.orderId, accountId: account, instrument: instrumentKey(found.instrument.venue, found.instrument.symbol) }
}

async function cancelOrder(c: Context<AuthEnv>, services: Services): Promise<Response> {
  const trace = requestTrace(c)
  queryOf(c, NO_QUERY)
  parseOrThrow(CANCEL_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax, emptyAsObject: true }))
  const { orderId } = actionableOrder(c, services, CANCEL)
  requireReady(services)
  const result = await runCommand(c, () => services.gateway.cancel(kernelPrincipal(principalOf(c)), orderId, { traceparent: trace.traceparent }))
  if (result.reply.kind === 'refused') throw reasonError(result.reply.reason, { details: { order_id: orderId, detail: result.reply.detail } })
  const order = services.gateway.engine.state.orders.get(orderId)
  const view = { order_id: orderId, state: order?.status ?? null, cancel_requested: true }
  // Answered once the log holds what the view shows (routes/support.ts durableAnswer): memory may already hold later
  // decisions about the order (an answer, a fill) in a batch not yet durable, which a crash then would lose.
  await appliedDurable(services)
  return c.json(view, 202)
}

/**
 * Amend (replace): a new total qty and/or limit price. Only the order's traders may amend — unlike cancel, an amend
 * can add risk, so operators get 403. 202 with the amend id once the amend is recorded; its outcome streams.
 *
 * An amend is held to the account's (and the bot's) rate and the in-flight bound, as a new order is: every amend a
 * guard refuses is an `order.amend_rejected` record, so without it one token could write to the log, and to the
 * order's history (which /events pages and /explain excerpts), as fast as it could send (429 RATE_LIMITED with Retry-After
 * past the bound). An amend that wrote nothing (a repeat of the pending one, a refusal, no change) gives its token back.
 */
async function amendOrder(c: Context<AuthEnv>, services: Services): Promise<Response> {
  const trace = requestTrace(c)
  const principal = principalOf(c)
  queryOf(c, NO_QUERY)
  const body = parseOrThrow(amendBodySchema, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax }))
  const { orderId, accountId, instrument } = actionableOrder(c, services, AMEND)
  requireReady(services)
  // An amend can add risk and writes records: refused on a low disk like a new order (a cancel above is not), and,
  // when it adds risk, without the standby under fail_closed (review: taken, its send was held until the standby came
  // back, maybe much later). One that adds none goes on: a repeat of an applied amend (answered unchanged), one that
  // may repeat the amend under way, a cut (held for the standby like any write, as a flatten's orders are).
  const held = services.gateway.engine.state.orders.get(orderId)
  if (held !== undefined && amendAddsRisk(held, body)) {
    const standby = standbyRefusal(services)
    if (standby !== null) throw standbyUnavailable(standby)
  }
  refuseIfDiskLow(services.disk, 'amends')
  const admission = admitFor(services, accountId, principal, instrument)
  if (!admission.ok) {
    services.metrics.countShed('amend', admission.scope)
    throw shedError('amends', admission)
  }
  let result
  try {
    result = await runCommand(c, () => services.gateway.amend(kernelPrincipal(principal), orderId, { qty: body.qty ?? null, price: body.price ?? null }, { traceparent: trace.traceparent }))
  } catch (error) {
    if (refusedUndone(error)) admission.refund()
    throw error
  } finally {
    admission.release()
  }
  if (result.lsn === null) admission.refund()
  const reply = result.reply
  if (reply.kind === 'refused') throw reasonError(reply.reason, { details: { order_id: orderId, detail: reply.detail } })
  if (reply.kind === 'rejected') throw reasonError(reply.reason, { details: { order_id: orderId, guard: reply.guard } })
  const order = services.gateway.engine.state.orders.get(orderId)
  const view = { order_id: orderId, state: order?.status ?? null, amend_stage: order?.amend?.stage ?? null }
  // As cancel's: the view is answered once the log holds all it shows (a cancel decided meanwhile, say).
  await appliedDurable(services)
  // The order already has these values (as they would be sent, rounded to the tick and lot): nothing is recorded or
  // sent. A retry of an amend that was applied meanwhile lands here; it was answered 500 INTERNAL.
  if (reply.kind === 'done') return c.json({ ...view, amend_id: null, unchanged: true }, 200)
  if (reply.kind !== 'amend_accepted') throw new ApiError('INTERNAL', 'internal error', { cause: new Error(`unexpected amend reply ${reply.kind}`) })
  return c.json({ ...view, amend_id: reply.amendId }, 202)
}

/**
 * Whether the amend asks for more than the order holds now: a larger quantity, or a price more aggressive (a buy's
 * higher, a sell's lower), and no amend is under way that it may repeat.
 */
function amendAddsRisk(order: Order, body: AmendBody): boolean {
  const underWay = order.amend
  if (underWay !== null && underWay.stage !== 'failed') return false
  if (body.qty !== undefined && body.qty > order.qty) return true
  if (body.price === undefined || order.price === null || body.price === order.price) return false
  return order.side === 'buy' ? body.price > order.price : body.price < order.price
}
