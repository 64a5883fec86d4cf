/**
 * The first answer of an order list the kernel has forgotten (ended, and beyond ORDER_LISTS_ENDED_KEPT_MAX), read
 * from the log: a repeat of its key gets it byte for byte, as a retired order's repeat does (place-response.ts). The
 * kernel names the leg whose key it still holds (reply list_leg_repeat); the list's `order_list.accepted` follows its
 * legs' `order.accepted` records in the one decision that took them (order-list-schemas.ts), so it is within two
 * records of that leg's intake record. Only a list record naming this leg at its place, on this account and under this
 * list key, counts: a lone order that took the leg's key has none, and stays a conflict.
 */

import type { EventOf } from '../domain/events/index.ts'
import type { Wal } from '../../wal/index.ts'
import type { LogIndex } from './log-index.ts'
import { readLsns } from './log-reads.ts'

/** Records from a leg's intake record to its list's: the second leg's, then the list's (place-list.ts). */
const LIST_RECORD_AFTER_LEG_MAX = 2

export type ListAccepted = EventOf<'order_list.accepted'>

/**
 * The `order_list.accepted` that took `legOrderId` as its leg `leg`, for `accountId` under `listKey`; null when the log
 * holds none (another order took the key, or its records were compacted away).
 */
export function retiredListOf(logIndex: LogIndex, wal: Wal, leg: { orderId: string; index: number }, accountId: string, listKey: string): ListAccepted | null {
  const intake = logIndex.intakeRecord(leg.orderId)
  if (intake === null || intake.event.type !== 'order.accepted') return null
  const after = Array.from({ length: LIST_RECORD_AFTER_LEG_MAX }, (_, offset) => intake.lsn + 1 + offset)
  for (const { event } of readLsns(wal, after)) {
    if (event.type !== 'order_list.accepted') continue
    if (event.legs[leg.index] === leg.orderId && event.accountId === accountId && event.listKey === listKey) return event
  }
  return null
}
