/**
 * Members of recorded events the back office's ledger fold (ledger.ts applyEvent, orders.ts) never reads, so the
 * replay ledger's reader (replay-ledger.ts) passes over them undecoded: an acceptance's decision record, a send
 * request's gate checks, a call's detail, and all of an execution report but what rememberLiquidity reads (execId,
 * kind, liquidity). Decoding the log again was ~64% of the replay fold's CPU (bench:http profile; the fold itself
 * ~10% of serve's CPU), and these members are most of the bytes and strings.
 *
 * Adding a path here is only correct if the fold never looks at it; a member added to a schema later is read unless
 * listed, so the list fails safe. specs/backoffice/fold-unread.test.ts folds a varied run both ways and compares the
 * ledgers whole.
 */

import type { DomainEvent, EventType } from '../domain/events/index.ts'
import { eventCode } from '../domain/events/registry.ts'
import { decodeTrustedEvent, unreadMembers } from '../domain/events/trusted-decode.ts'
import { isAuditRecord } from '../runtime/records.ts'
import type { Frame } from '../../wal/index.ts'

/** The execution report's members the fold does not read: all but execId, kind and liquidity (ledger.ts rememberLiquidity). */
const REPORT_UNREAD = ['venue', 'clientOrderId', 'origClientOrderId', 'venueOrderId', 'account', 'symbol', 'side', 'cumQty', 'lastQty', 'lastPrice', 'fee', 'feeAsset', 'reason', 'venueTimeMs']

export const FOLD_UNREAD_MEMBERS: ReadonlyMap<EventType, readonly string[]> = new Map<EventType, readonly string[]>([
  ['order.accepted', ['decision']],
  ['order.send_requested', ['gate']],
  ['inbox.report_accepted', REPORT_UNREAD.map((member) => `report.${member}`)],
  ['order.call_completed', ['detail']],
])

const UNREAD_BY_CODE = new Map([...FOLD_UNREAD_MEMBERS].map(([type, paths]) => [eventCode(type), unreadMembers(paths)]))

/**
 * A frame of this program's live log (CRC-checked on read) as the domain event the ledger fold needs, without the
 * members it never reads; null for an audit record. For the fold only: not for explanations or the audit.
 */
export function foldEventOf(frame: Frame): DomainEvent | null {
  if (isAuditRecord(frame.type)) return null
  return decodeTrustedEvent({ type: frame.type, version: frame.version, payload: frame.payload }, UNREAD_BY_CODE.get(frame.type))
}
