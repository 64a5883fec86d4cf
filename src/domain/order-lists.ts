/**
 * Order lists (spec 004 §3 `compound/`): orders placed together and tied by a rule the kernel enforces. One kind so
 * far, OCO (one-cancels-the-other): two orders on the same account, venue and symbol; when one leg executes (any fill,
 * even partial), is canceled, or ends any other way, the kernel cancels the other in the same decision. Each list is a
 * record in the log (`order_list.accepted` 263, `order_list.triggered` 264), so the lists are a projection like any
 * other: replayed at a start, kept by snapshots (format 16), followed by a standby, decided again by redecide.
 *
 * A list ends when both legs are terminal (derived when the second leg's ending event applies: no record). Open lists
 * are bounded (ORDER_LISTS_OPEN_MAX, ORDER_LISTS_FULL when reached); the newest ORDER_LISTS_ENDED_KEPT_MAX ended ones
 * stay for GET and for repeats of their key, and older ones while the kernel still holds a leg (venue news may bring
 * it back, and it must then be known as a leg); the others are forgotten (their legs, and the legs' idempotency
 * entries, follow the orders' own retention).
 */

import * as v from 'valibot'
import { placeBodySchema } from './orders.ts'
import { idSchema } from './schema-kit.ts'

/** Hard bound on the lists not ended at once (both legs not yet terminal). */
export const ORDER_LISTS_OPEN_MAX = 10_000

/** Ended lists kept for reads and repeats, oldest accepted forgotten first; beyond them, those a leg of is still held (apply-list.ts). */
export const ORDER_LISTS_ENDED_KEPT_MAX = 1_000

/** A list key leaves room for the `/<index>` of its legs' keys within the 128 characters of an idempotency key. */
export const LIST_KEY_CHARS_MAX = 120

export const ORDER_LIST_TYPES = ['oco'] as const
export type OrderListType = (typeof ORDER_LIST_TYPES)[number]

/** What fired a list: a leg's fill, a cancel of a leg (by anyone), or a leg ending otherwise (rejected, expired, failed). */
export const ORDER_LIST_TRIGGER_CAUSES = ['fill', 'canceled', 'ended'] as const
export type OrderListTriggerCause = (typeof ORDER_LIST_TRIGGER_CAUSES)[number]

export interface OrderListTrigger {
  /** The leg whose event fired the list. */
  legOrderId: string
  cause: OrderListTriggerCause
  atMs: number
}

export interface OrderList {
  listId: string
  type: OrderListType
  accountId: string
  /** The list's idempotency key (Idempotency-Key header or client_list_id). */
  listKey: string
  /** SHA-256 of the canonical JSON of the list body: a repeat with another body is a conflict. */
  bodyDigest: string
  principalId: string
  /** The legs' order ids, in the body's order. */
  legs: string[]
  acceptedAtMs: number
  /** Null until a leg fires the list; set once, by `order_list.triggered`. */
  triggered: OrderListTrigger | null
  /** When the second leg became terminal; null while open. */
  endedAtMs: number | null
}

export interface OrderLists {
  /** Every list kept, open and ended, in acceptance order. */
  lists: Map<string, OrderList>
  /** Leg order id → list id, for open lists only (derived from `lists`). */
  byLeg: Map<string, string>
  /**
   * Leg order id → list id, for the ended lists kept (derived from `lists`): a leg of a fired list that comes back
   * live on venue news after its list ended is canceled (src/kernel/order-lists/revived-legs.ts), and a resend of one
   * is refused (fired-list.ts); both look its list up here.
   */
  endedByLeg: Map<string, string>
  /** Open lists (derived from `lists`). */
  open: number
}

export function emptyOrderLists(): OrderLists {
  return { lists: new Map(), byLeg: new Map(), endedByLeg: new Map(), open: 0 }
}

/** The derived parts rebuilt from `lists` (a snapshot holds `lists` only). */
export function orderListsOf(lists: Map<string, OrderList>): OrderLists {
  const byLeg = new Map<string, string>()
  const endedByLeg = new Map<string, string>()
  let open = 0
  for (const list of lists.values()) {
    if (list.endedAtMs === null) open++
    for (const leg of list.legs) (list.endedAtMs === null ? byLeg : endedByLeg).set(leg, list.listId)
  }
  return { lists, byLeg, endedByLeg, open }
}

export function cloneOrderLists(orderLists: OrderLists): OrderLists {
  return {
    lists: new Map([...orderLists.lists].map(([id, list]) => [id, { ...list, legs: [...list.legs], triggered: list.triggered === null ? null : { ...list.triggered } }])),
    byLeg: new Map(orderLists.byLeg),
    endedByLeg: new Map(orderLists.endedByLeg),
    open: orderLists.open,
  }
}

/** The other leg of a two-leg list. */
export function siblingOf(list: OrderList, legOrderId: string): string | null {
  return list.legs.find((leg) => leg !== legOrderId) ?? null
}

/**
 * The body of `POST /v1/order-lists`: the list's type, account, optional key, and exactly two ordinary order bodies
 * (each checked here as an order body is; the kernel then runs every guard of the place path on each raw leg).
 * Strict: unknown members are refused.
 */
export const orderListBodySchema = v.strictObject({
  type: v.picklist(ORDER_LIST_TYPES, `expected one of ${ORDER_LIST_TYPES.join(', ')}`),
  account: idSchema,
  client_list_id: v.exactOptional(v.pipe(idSchema, v.maxLength(LIST_KEY_CHARS_MAX, `expected at most ${LIST_KEY_CHARS_MAX} characters (the legs' keys add /0 and /1)`))),
  orders: v.pipe(v.array(placeBodySchema), v.length(2, 'an OCO list has exactly 2 orders')),
})

export type OrderListBody = v.InferOutput<typeof orderListBodySchema>
