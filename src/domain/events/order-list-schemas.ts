/**
 * The records of order lists (src/domain/order-lists.ts): a list accepted with its legs (whose `order.accepted`
 * records precede it in the same decision), and the one time the kernel fires it (a leg executed, was canceled or
 * ended), with the sibling cancel's records following in the same decision. Held in the kernel state
 * (KernelState.orderLists), so a restart, a standby and a snapshot keep them as they keep everything else.
 */

import * as v from 'valibot'
import { ORDER_LIST_TRIGGER_CAUSES, ORDER_LIST_TYPES } from '../order-lists.ts'
import { idSchema, msSchema } from '../schema-kit.ts'
import { traceparent } from './record-parts.ts'

export const ORDER_LIST_EVENT_SCHEMAS = {
  'order_list.accepted': v.strictObject({
    type: v.literal('order_list.accepted'),
    atMs: msSchema,
    listId: idSchema,
    listType: v.picklist(ORDER_LIST_TYPES),
    accountId: idSchema,
    listKey: idSchema,
    bodyDigest: v.string(),
    principalId: v.string(),
    legs: v.array(idSchema),
    traceparent,
  }),
  'order_list.triggered': v.strictObject({
    type: v.literal('order_list.triggered'),
    atMs: msSchema,
    listId: idSchema,
    legOrderId: idSchema,
    cause: v.picklist(ORDER_LIST_TRIGGER_CAUSES),
  }),
} as const
