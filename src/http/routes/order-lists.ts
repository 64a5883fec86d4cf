/**
 * Order lists (spec 004 §3 compound/: OCO; src/kernel/order-lists/): `POST /v1/order-lists` places two orders tied
 * so that when one executes (even in part), is canceled or ends, the kernel cancels the other; `GET
 * /v1/order-lists/{id}` shows the list and its legs. The transport checks what it owns before the kernel sees the
 * request, as for a single order (orders.ts): the body's shape (every issue with its path, nothing recorded), the
 * keys, the caller's right to trade the account, the disk and the load (admitPlace, with the first leg: one admission
 * for the list). The kernel then runs every guard of the place path on each leg; the answer comes once durable.
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { formatDecimal } from '../../domain/decimal.ts'
import { refuseLeadingZeroAmounts } from './input-amounts.ts'
import { orderListBodySchema, type OrderList } from '../../domain/order-lists.ts'
import { heldListIdOf, idempotencyIndexKey, legKeyOf, LIST_KEY_CHARS_MAX, type Reply } from '../../kernel/index.ts'
import type { KernelState } from '../../kernel/index.ts'
import { canRead, canTrade, principalOf, type AuthEnv } from '../auth/index.ts'
import { readJson } from '../body.ts'
import { ApiError, reasonError, validationError } from '../errors.ts'
import { kernelPrincipal } from '../principal.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'
import { retiredListOf, type ListAccepted } from '../retired-list.ts'
import { requestTrace } from '../trace.ts'
import { admitPlace, isKernelLoadRefusal, refuseReservedKey, requireAdmitted } from './place-admission.ts'
import { durableAnswer, idempotencyKeyOf, pathId, refusedUndone, requireReady, runCommand } from './support.ts'

/** The body as /openapi.json documents it (the kernel checks the same schema). */
export const ORDER_LIST_BODY_SCHEMA = orderListBodySchema

export function orderListRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.post('/v1/order-lists', (c) => placeList(c, services))
  app.get('/v1/order-lists/:id', (c) => {
    queryOf(c, NO_QUERY)
    const listId = pathId(c, 'id')
    const state = services.gateway.engine.state
    const list = state.orderLists.lists.get(listId)
    // Another account's list answers as one that does not exist, so list ids cannot be probed across accounts.
    if (list === undefined || !canRead(principalOf(c), list.accountId)) throw reasonError('ORDER_LIST_NOT_FOUND', { details: { list_id: listId } })
    return durableAnswer(c, services, listView(state, list))
  })
  return app
}

async function placeList(c: Context<AuthEnv>, services: Services): Promise<Response> {
  const trace = requestTrace(c)
  const principal = principalOf(c)
  queryOf(c, NO_QUERY)
  const body = await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax })
  const parsing = v.safeParse(orderListBodySchema, body)
  if (!parsing.success) throw validationError(parsing.issues)
  const parsed = parsing.output
  const headerKey = idempotencyKeyOf(c)
  const listKey = headerKey ?? parsed.client_list_id
  if (listKey === undefined) throw reasonError('IDEMPOTENCY_KEY_MISSING', { details: { detail: 'an order list needs an Idempotency-Key header or client_list_id' } })
  if (headerKey !== null && parsed.client_list_id !== undefined && headerKey !== parsed.client_list_id) {
    throw new ApiError('IDEMPOTENCY_KEY_MISMATCH', 'the Idempotency-Key header and client_list_id must be equal when both are sent', {
      details: { idempotency_key: headerKey, client_list_id: parsed.client_list_id },
    })
  }
  if (listKey.length > LIST_KEY_CHARS_MAX) {
    throw new ApiError('VALIDATION_FAILED', `header.Idempotency-Key: expected at most ${LIST_KEY_CHARS_MAX} characters for a list (its legs' keys add /0 and /1)`, {
      details: { issues: [{ path: 'header.Idempotency-Key', message: `expected at most ${LIST_KEY_CHARS_MAX} characters` }] },
    })
  }
  const legKeys = parsed.orders.map((leg, index) => legKeyOf(listKey, leg, index))
  for (const key of [listKey, ...legKeys]) refuseReservedKey(key)
  if (!canTrade(principal, parsed.account)) throw new ApiError('FORBIDDEN', `not allowed to trade account ${parsed.account}`, { details: { account: parsed.account } })
  requireReady(services)
  const first = parsed.orders[0]
  if (first === undefined) throw new ApiError('INTERNAL', 'internal error', { cause: new Error('a parsed list has two orders') })
  // A list the kernel holds under its key, or one with a leg key it holds, is answered from what it holds (a repeat, a
  // conflict, a leg's recorded rejection): nothing is written, and it is admitted as a repeat (under fail_closed, never
  // "nothing was written" for a list whose key is in the log: review).
  const { state } = services.gateway.engine
  const known = heldListIdOf(state, parsed.account, listKey) !== undefined || legKeys.some((key) => state.idempotency.has(idempotencyIndexKey(parsed.account, key)))
  refuseLeadingZeroAmounts((body as { orders: unknown[] }).orders.map((leg, index) => ({ path: `orders.${index}.`, body: leg })), known)
  const admission = requireAdmitted(services, admitPlace(services, principal, parsed.account, legKeys[0] as string, first, known))
  try {
    const result = await runCommand(c, () => services.gateway.placeList(kernelPrincipal(principal), body, headerKey, { traceparent: trace.traceparent })).catch((error: unknown) => {
      if (refusedUndone(error)) admission.refund()
      throw error
    })
    if (isKernelLoadRefusal({ kind: result.reply.kind === 'list_rejected' ? 'rejected' : result.reply.kind, ...('reason' in result.reply ? { reason: result.reply.reason } : {}) }, result.lsn)) admission.refund()
    const answer = listAnswer(services, result.reply, { accountId: parsed.account, listKey })
    if (answer.duplicate) c.header('Idempotent-Replayed', 'true')
    return c.json(answer.body, 202)
  } finally {
    admission.release()
  }
}

/**
 * The 202 for an accepted list (from the list as recorded, so a repeat gets the same body; a list the kernel has
 * forgotten, from its record in the log: retired-list.ts), or the error.
 */
function listAnswer(services: Services, reply: Reply, request: { accountId: string; listKey: string }): { body: Record<string, unknown>; duplicate: boolean } {
  const state = services.gateway.engine.state
  const duplicateHeaders = (duplicate: boolean): Record<string, string> => (duplicate ? { 'Idempotent-Replayed': 'true' } : {})
  switch (reply.kind) {
    case 'list_accepted': {
      const list = state.orderLists.lists.get(reply.listId)
      if (list === undefined) throw new ApiError('INTERNAL', 'internal error', { cause: new Error(`list ${reply.listId} accepted but not held`) })
      return { body: acceptedBody(list), duplicate: reply.duplicate }
    }
    case 'list_leg_repeat': {
      const leg = { orderId: reply.orderId, index: reply.leg }
      const recorded = retiredListOf(services.logIndex, services.gateway.engine.wal, leg, request.accountId, request.listKey)
      if (recorded === null) throw reasonError('IDEMPOTENCY_CONFLICT', { details: { detail: reply.detail } })
      if (recorded.bodyDigest !== reply.bodyDigest) {
        throw reasonError('IDEMPOTENCY_CONFLICT', { details: { detail: `list key ${request.listKey} was used with a different body (list ${recorded.listId})` } })
      }
      return { body: acceptedBody(listOfRecord(recorded)), duplicate: true }
    }
    case 'list_rejected':
      throw reasonError(reply.reason, {
        details: { list_id: reply.listId, leg: reply.leg, order_id: reply.orderId, guard: reply.guard },
        headers: duplicateHeaders(reply.duplicate),
      })
    case 'refused':
      throw reasonError(reply.reason, { details: { detail: reply.detail } })
    default:
      throw new ApiError('INTERNAL', 'internal error', { cause: new Error(`unexpected order-list reply ${reply.kind}`) })
  }
}

/** What acceptedBody shows of a list, from its acceptance record. */
function listOfRecord(event: ListAccepted): Pick<OrderList, 'listId' | 'type' | 'accountId' | 'listKey' | 'acceptedAtMs' | 'legs'> {
  return { listId: event.listId, type: event.listType, accountId: event.accountId, listKey: event.listKey, acceptedAtMs: event.atMs, legs: event.legs }
}

function acceptedBody(list: Pick<OrderList, 'listId' | 'type' | 'accountId' | 'listKey' | 'acceptedAtMs' | 'legs'>): Record<string, unknown> {
  return {
    list_id: list.listId,
    type: list.type,
    account: list.accountId,
    list_key: list.listKey,
    accepted_at_ms: list.acceptedAtMs,
    order_ids: [...list.legs],
    links: { self: `/v1/order-lists/${list.listId}`, orders: list.legs.map((orderId) => `/v1/orders/${orderId}`) },
  }
}

/** The list now: open or ended, what fired it, and each leg's state (null once the kernel retired the order). */
function listView(state: KernelState, list: OrderList): Record<string, unknown> {
  return {
    ...acceptedBody(list),
    state: list.endedAtMs === null ? (list.triggered === null ? 'open' : 'triggered') : 'ended',
    triggered: list.triggered === null ? null : { order_id: list.triggered.legOrderId, cause: list.triggered.cause, at_ms: list.triggered.atMs },
    ended_at_ms: list.endedAtMs,
    legs: list.legs.map((orderId) => {
      const order = state.orders.get(orderId)
      return { order_id: orderId, state: order?.status ?? null, cum_qty: order === undefined ? null : formatDecimal(order.cumQty) }
    }),
  }
}
