/**
 * What a client may ask the JSONL sim venue (server.ts), as valibot schemas built once: the arguments of each op,
 * checked before the request reaches the book. The book acts on a request one latency draw after the call, inside a
 * clock callback, so an argument it cannot read would throw there, out of reach of the request's answer; checked
 * here, the request is answered `rejected` (the venue did nothing) and the venue goes on.
 *
 * Amounts are bigint units (decodeLine's `$units` reviver). Objects are strict, as in messages.ts: the wire format is
 * egress's own, so an unknown member means the two sides disagree about the protocol.
 */

import * as v from 'valibot'
import { idSchema, orderTypeSchema, sideSchema, tifSchema } from '../../domain/schema-kit.ts'
import type { AmendRequest, CancelRequest, PlaceRequest } from '../adapter.ts'
import { OPEN_ORDERS_PAGE_MAX } from './codec.ts'
import { PARSE_CONFIG, describeIssue, positiveUnitsSchema } from './messages.ts'
import { JsonlReason, withDetail } from './reasons.ts'

const placeSchema: v.GenericSchema<unknown, PlaceRequest> = v.strictObject({
  clientOrderId: idSchema,
  account: idSchema,
  symbol: idSchema,
  side: sideSchema,
  type: orderTypeSchema,
  qty: positiveUnitsSchema,
  price: v.exactOptional(positiveUnitsSchema),
  tif: tifSchema,
  postOnly: v.boolean(),
  reduceOnly: v.boolean(),
})

const cancelSchema: v.GenericSchema<unknown, CancelRequest> = v.strictObject({
  clientOrderId: idSchema,
  origClientOrderId: idSchema,
  account: idSchema,
  symbol: idSchema,
})

const amendSchema: v.GenericSchema<unknown, AmendRequest> = v.strictObject({
  clientOrderId: idSchema,
  origClientOrderId: idSchema,
  account: idSchema,
  symbol: idSchema,
  qty: positiveUnitsSchema,
  price: v.exactOptional(positiveUnitsSchema),
})

/**
 * One page of the open-order list (codec.ts): the orders after (`after`, `afterAccount`) by client order id, then
 * account, at most `limit`. `afterAccount` only with `after`; without it (an older client) after `after` alone.
 */
const openOrdersPageSchema = v.pipe(
  v.strictObject({
    account: v.exactOptional(idSchema),
    after: v.exactOptional(idSchema),
    afterAccount: v.exactOptional(idSchema),
    limit: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(OPEN_ORDERS_PAGE_MAX)),
  }),
  v.check((page) => page.afterAccount === undefined || page.after !== undefined, 'afterAccount is given only with after'),
)

/** Each op's arguments (`args` of `{id, op, args}`). */
export const requestArgsSchemas = {
  place: placeSchema,
  cancel: cancelSchema,
  amend: amendSchema,
  orderStatus: idSchema,
  // An account alone (every open order at once: small books, older clients) or a page.
  openOrders: v.optional(v.union([idSchema, openOrdersPageSchema])),
  trades: v.strictObject({ account: v.exactOptional(idSchema), clientOrderId: v.exactOptional(idSchema) }),
  balances: idSchema,
  inspect: v.nullish(v.unknown()),
  // Names the connection (a gateway node's id), so the venue can say which client made each place call.
  hello: v.strictObject({ client: idSchema }),
} as const

export type RequestOp = keyof typeof requestArgsSchemas
export type RequestArgs<Op extends RequestOp> = v.InferOutput<(typeof requestArgsSchemas)[Op]>

/** A request as the server acts on it: its op known and its arguments checked. */
export type CheckedRequest = { [Op in RequestOp]: { id: number; op: Op; args: RequestArgs<Op> } }[RequestOp]

/** The request `{id, op, args}` with its arguments checked, or what is wrong with it (the first issue, with its path). */
export function checkRequest(id: number, op: string, args: unknown): CheckedRequest | string {
  if (!Object.hasOwn(requestArgsSchemas, op)) return withDetail(JsonlReason.opUnknown, JSON.stringify(op.slice(0, 40)))
  const schema = requestArgsSchemas[op as RequestOp] as v.GenericSchema<unknown, unknown>
  const result = v.safeParse(schema, args, PARSE_CONFIG)
  if (result.success) return { id, op, args: result.output } as CheckedRequest
  return withDetail(JsonlReason.requestInvalid, `malformed ${op} request: ${describeIssue(result.issues[0], 'args')}`)
}
