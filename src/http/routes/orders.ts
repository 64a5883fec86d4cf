/**
 * Orders: create (the ACK boundary), get, list. Cancel and amend live in order-actions.ts; the log views (events,
 * explain) in order-log.ts.
 *
 * Create checks what the transport owns before the kernel sees the request — the body's shape (with every issue and
 * its path), an idempotency key, the caller's right to trade the account, and load — so nothing a client sends
 * without authority or form reaches the log. What the kernel decides (policy, funds, mode, data health, …) is
 * recorded as `order.accepted` / `order.rejected` and answered once durable.
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { safeParsePlaceBody } from '../../domain/orders.ts'
import { idempotencyIndexKey } from '../../kernel/index.ts'
import { ORDER_STATES } from '../../domain/states.ts'
import { canRead, canReadEvery, canTrade, principalOf, type AuthEnv, type Principal } from '../auth/index.ts'
import { bodyBrokenOff, jsonBodyOf } from '../body.ts'
import { ApiError, reasonError, validationError } from '../errors.ts'
import { kernelPrincipal } from '../principal.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'
import { orderView } from '../views/order-view.ts'
import { admitPlace, isKernelLoadRefusal, refuseReservedKey, requireAdmitted } from './place-admission.ts'
import { refuseLeadingZeroAmounts } from './input-amounts.ts'
import { acceptedFieldsOf, placeAnswer, type AcceptedFields } from './place-response.ts'
import { findOrder } from './order-lookup.ts'
import { OrderCursors, type CursorReader } from '../order-list/cursor.ts'
import { orderPage } from '../order-list/page.ts'
import { requestTrace } from '../trace.ts'
import { acceptedTraceIdOf } from '../order-trace.ts'
import { venueRejectView } from '../venue-reject/view.ts'
import { commandError, durableAnswer, idempotencyKeyOf, markDecided, pathId, refusedUndone, requireReady } from './support.ts'
import type { Labels } from '../metrics/index.ts'
import type { CommandResult } from '../../runtime/gateway-commands.ts'

export function orderRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  const cursors = new OrderCursors(services.orderList, services.cursorSecret)
  // A repeat of a retired order's key is answered from its acceptance record (place-response.ts); made once, not per order.
  const retiredOrder = (orderId: string): AcceptedFields | null => acceptedFieldsOf(services.logIndex.intakeRecord(orderId))
  app.post('/v1/orders', (c) => placeOrder(c, services, retiredOrder))
  app.get('/v1/orders', (c) => durableAnswer(c, services, listOrders(c, services, cursors)))
  app.get('/v1/orders/:id', (c) => {
    queryOf(c, NO_QUERY)
    const found = findOrder(services, principalOf(c), pathId(c, 'id'))
    if (found.order === null) return durableAnswer(c, services, found.view)
    // The state from memory now, the trace id and venue refusal from the log once it holds what memory showed.
    return durableAnswer(c, services, () => ({ ...found.view, ...traceView(services, found.orderId), ...venueRejectView(services.logIndex, found.orderId) }))
  })
  return app
}

async function placeOrder(c: Context<AuthEnv>, services: Services, retiredOrder: (orderId: string) => AcceptedFields | null): Promise<Response> {
  const startedMs = performance.now()
  const trace = requestTrace(c)
  const principal = principalOf(c)
  queryOf(c, NO_QUERY)
  // requestBytes's read, written out (no promise of its own per order).
  let bytes: ArrayBuffer
  try {
    bytes = await c.req.arrayBuffer()
  } catch (error) {
    throw bodyBrokenOff(error)
  }
  const body = jsonBodyOf(c, bytes, { bodyBytesMax: services.limits.bodyBytesMax })
  const headerKey = idempotencyKeyOf(c)
  const parsing = safeParsePlaceBody(body)
  if (!parsing.success) throw validationError(parsing.issues)
  const parsed = parsing.output
  const idempotencyKey = headerKey ?? parsed.client_order_id
  if (idempotencyKey === undefined) throw reasonError('IDEMPOTENCY_KEY_MISSING')
  // The kernel keys an order by the header when there is one. A client_order_id that says otherwise would be a second
  // identity of the same order, and a retry carrying only it would be a new order: refused before anything is decided.
  if (headerKey !== null && parsed.client_order_id !== undefined && headerKey !== parsed.client_order_id) {
    throw new ApiError('IDEMPOTENCY_KEY_MISMATCH', 'the Idempotency-Key header and client_order_id must be equal when both are sent', {
      details: { idempotency_key: headerKey, client_order_id: parsed.client_order_id },
    })
  }
  refuseReservedKey(idempotencyKey)
  if (!canTrade(principal, parsed.account)) {
    throw new ApiError('FORBIDDEN', `not allowed to trade account ${parsed.account}`, { details: { account: parsed.account } })
  }
  requireReady(services)
  refuseLeadingZeroAmounts([{ path: '', body }], services.gateway.engine.state.idempotency.has(idempotencyIndexKey(parsed.account, idempotencyKey)))
  const admission = requireAdmitted(services, admitPlace(services, principal, parsed.account, idempotencyKey, parsed))
  let outcome = 'error'
  try {
    // runCommand's work written out (no closures per order): the runtime's errors as the API's, the request marked decided.
    let result: CommandResult
    try {
      // The request's trace context is a RequestTrace already (its traceparent is what place reads): no copy per order.
      result = await services.gateway.place(kernelPrincipal(principal), body, headerKey, trace)
    } catch (error) {
      const answered = commandError(error)
      if (refusedUndone(answered)) admission.refund()
      throw answered
    }
    markDecided(c)
    if (isKernelLoadRefusal(result.reply, result.lsn)) admission.refund()
    const reply = result.reply
    // A repeat of a key answers the first decision again: no acceptance of its own, so not timed as one.
    outcome = (reply.kind === 'accepted' || reply.kind === 'rejected') && reply.duplicate ? 'replayed' : reply.kind
    const answer = placeAnswer(services.gateway.engine.state, reply, retiredOrder)
    if (reply.kind === 'accepted' && reply.duplicate) c.header('Idempotent-Replayed', 'true')
    return c.body(JSON.stringify(answer), 202, JSON_CONTENT_TYPE)
  } finally {
    admission.release()
    services.metrics.ackLatency.observe((performance.now() - startedMs) / 1000, ackOutcomeLabels(outcome))
  }
}

/** What c.json sends, as one object for every answer (c.json spread a new one per call). */
const JSON_CONTENT_TYPE = Object.freeze({ 'Content-Type': 'application/json' })

/** egress_order_ack_latency_seconds's labels per outcome, made once each. */
const ACK_OUTCOME_LABELS = new Map<string, Labels>()

function ackOutcomeLabels(outcome: string): Labels {
  let labels = ACK_OUTCOME_LABELS.get(outcome)
  if (labels === undefined) ACK_OUTCOME_LABELS.set(outcome, (labels = Object.freeze({ outcome })))
  return labels
}

/**
 * `trace_id` of an accepted order: the trace it was accepted under (order-trace.ts). Left out while the log index is
 * still being built after a restart (not known yet), and of the list (one log read per order).
 */
function traceView(services: Services, orderId: string): { trace_id?: string | null } {
  const traceId = acceptedTraceIdOf(services.logIndex, orderId)
  return traceId === undefined ? {} : { trace_id: traceId }
}

export const LIST_QUERY_SCHEMA = v.strictObject({
  account: v.exactOptional(v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,128}$/, 'expected an account id'))),
  state: v.exactOptional(v.picklist(ORDER_STATES, `expected one of ${ORDER_STATES.join(', ')}`)),
  symbol: v.exactOptional(v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,128}$/, 'expected a symbol'))),
  limit: v.exactOptional(v.pipe(v.string(), v.regex(/^\d{1,4}$/, 'expected an integer 1–1000'), v.transform(Number), v.minValue(1, 'expected an integer 1–1000'), v.maxValue(1000, 'expected an integer 1–1000'))),
  cursor: v.exactOptional(v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,128}$/, 'expected a cursor from next_cursor'))),
})


/**
 * Orders in acceptance order; the cursor says where the previous page stopped (the last order it returned or read),
 * and still does once that order has retired (order-list/cursor.ts). A page reads at most limits.listExaminedMax
 * orders, from the order list index, whatever the kernel holds.
 */
function listOrders(c: Context<AuthEnv>, services: Services, cursors: OrderCursors): Record<string, unknown> {
  const principal = principalOf(c)
  const query = queryOf(c, LIST_QUERY_SCHEMA)
  const limit = Math.min(query.limit ?? 100, services.limits.listPageMax)
  const accounts = readableAccounts(principal, query.account)
  // A cursor the caller could not have been handed (another account's order) answers like an unknown one
  // (order-list/cursor.ts), so it cannot be used to learn whether an order it may not read exists.
  const afterSeq = query.cursor === undefined ? 0 : cursors.afterSeqOf(query.cursor, cursorReader(principal), (orderId) => retiredAccountOf(services, orderId))
  const page = orderPage(services.orderList, {
    accounts,
    ...(query.state === undefined ? {} : { state: query.state }),
    ...(query.symbol === undefined ? {} : { symbol: query.symbol }),
    limit,
    afterSeq,
    examinedMax: Math.max(limit + 1, services.limits.listExaminedMax),
  })
  return { orders: page.orders.map(orderView), next_cursor: page.next === null ? null : cursors.cursorOf(page.next) }
}

function cursorReader(principal: Principal): CursorReader {
  const readsEvery = canReadEvery(principal)
  return { readsEvery, accounts: readsEvery ? [] : principal.accounts.filter((accountId) => canRead(principal, accountId)) }
}

/** The account an order the kernel no longer holds was accepted for, from its first record in the log; null if none. */
function retiredAccountOf(services: Services, orderId: string): string | null {
  const logged = services.logIndex.accountOf(orderId)
  return logged?.accepted === true ? logged.accountId : null
}

/** Which accounts' orders the caller sees: the one asked for (if readable), else every one it may read. */
function readableAccounts(principal: Principal, account: string | undefined): 'all' | readonly string[] {
  if (account !== undefined) {
    if (!canRead(principal, account)) throw new ApiError('FORBIDDEN', `not allowed to read account ${account}`, { details: { account } })
    return [account]
  }
  if (canReadEvery(principal)) return 'all'
  return principal.accounts.filter((accountId) => canRead(principal, accountId))
}
