/**
 * Format 16's order lists (src/kernel/order-lists/) in the kernel section: every list kept, open and ended, in
 * acceptance order. The leg index and the open count are derived (orderListsOf), so they are not encoded.
 */

import { ORDER_LIST_TRIGGER_CAUSES, ORDER_LIST_TYPES, orderListsOf, type OrderList, type OrderLists, type OrderListTrigger } from '../../domain/order-lists.ts'
import { arrayOf, mapOf, nullable, num, oneOf, record, str, type Codec } from './codec-kit.ts'

const trigger = record<OrderListTrigger>('OrderListTrigger', { legOrderId: str, cause: oneOf(ORDER_LIST_TRIGGER_CAUSES), atMs: num })

const orderList = record<OrderList>('OrderList', {
  listId: str,
  type: oneOf(ORDER_LIST_TYPES),
  accountId: str,
  listKey: str,
  bodyDigest: str,
  principalId: str,
  legs: arrayOf(str),
  acceptedAtMs: num,
  triggered: nullable(trigger),
  endedAtMs: nullable(num),
})

const lists = mapOf(orderList)

export const orderListsCodec: Codec<OrderLists> = {
  shape: `OrderLists(${lists.shape})`,
  encode: (value) => lists.encode(value.lists),
  decode: (json, path) => orderListsOf(lists.decode(json, path)),
}
