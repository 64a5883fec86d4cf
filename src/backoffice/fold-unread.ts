/**
 * Members of recorded events the back office's ledger fold (ledger.ts applyEvent, orders.ts) never reads, so the
 * replay ledger's reader (replay-ledger.ts) passes over them undecoded: for the records every order writes, all but
 * what the fold reads — an acceptance keeps what trackAccepted copies (ids, instrument, side, quantity, venue client
 * id, reservation), a send request, an ack and a call's completion only their order id (a status change), an
 * execution report only what rememberLiquidity and noteReportFacts read (execId, kind, liquidity, client id, venue
 * time). Decoding the log again was ~64% of the
 * replay fold's CPU (bench:http profile, from when the fold ran on serve's event loop: ~10% of its CPU; it now runs in
 * the replay worker's thread), and these members are most of the bytes, strings and amounts (an acceptance's body
 * digest is a 64-character string, its price a bigint).
 *
 * Adding a path here is only correct if the fold never looks at it; a member added to a schema later is read unless
 * listed, so the list fails safe. specs/backoffice/fold-unread.test.ts folds a varied run both ways and compares the
 * ledgers whole.
 */

import type { EventType } from '../domain/events/index.ts'
import { trustedEventReaderWithout } from '../runtime/records.ts'

/**
 * The execution report's members the fold does not read: all but execId, kind, liquidity (ledger.ts rememberLiquidity),
 * clientOrderId and venueTimeMs (venue-facts.ts noteReportFacts).
 */
const REPORT_UNREAD = ['venue', 'origClientOrderId', 'venueOrderId', 'account', 'symbol', 'side', 'cumQty', 'lastQty', 'lastPrice', 'fee', 'feeAsset', 'reason']

/**
 * An acceptance's members trackAccepted (tracked-order-layout.ts) does not copy. Each list names its object member first: a version
 * 1 JSON record has only its first top-level member cut from the text (trusted-decode.ts unreadMembers).
 */
const ACCEPTED_UNREAD = ['decision', 'idempotencyKey', 'bodyDigest', 'clientOrderId', 'orderType', 'price', 'tif', 'postOnly', 'reduceOnly', 'lane', 'flattenId']

export const FOLD_UNREAD_MEMBERS: ReadonlyMap<EventType, readonly string[]> = new Map<EventType, readonly string[]>([
  ['order.accepted', ACCEPTED_UNREAD],
  // A status change only (orders.ts statusAfter reads an action for send_blocked and send_retry, not for these).
  ['order.send_requested', ['gate', 'attempt', 'venueClientOrderId']],
  ['order.send_acked', ['venueOrderId']],
  ['order.call_completed', ['detail', 'action', 'outcome']],
  ['inbox.report_accepted', REPORT_UNREAD.map((member) => `report.${member}`)],
])

/**
 * A frame of this program's live log (CRC-checked on read) as the domain event the ledger fold needs, without the
 * members it never reads; null for an audit record. For the fold only: not for explanations or the audit.
 */
export const foldEventOf = trustedEventReaderWithout(FOLD_UNREAD_MEMBERS)
