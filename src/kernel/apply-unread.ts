/**
 * Members of recorded events that apply() never reads: explanation and audit detail, kept in the log for the HTTP
 * explain endpoints, the back office and the audit, but not part of the kernel state. Restart replay into the kernel
 * leaves them out undecoded (they are most of the log's bytes and strings: an acceptance's decision record carries
 * every guard's inputs, a send request every gate check, an inbox record the venue's whole execution report of which
 * apply keeps only the exec id). A path names a member of a member with a dot.
 *
 * Adding a path here is only correct if apply (and everything it calls) never looks at it; a member added to a schema
 * later is read unless listed, so the list fails safe. specs/runtime/replay-unread.test.ts replays a varied run both
 * ways and compares each event and the state digests, and the simulation compares replayed with live state.
 */

import type { EventType } from '../domain/events/index.ts'

/** The execution report's members apply does not read: all but `execId` (apply.ts, 'inbox.report_accepted'). */
const REPORT_UNREAD = ['venue', 'kind', 'clientOrderId', 'origClientOrderId', 'venueOrderId', 'account', 'symbol', 'side', 'cumQty', 'lastQty', 'lastPrice', 'fee', 'feeAsset', 'liquidity', 'reason', 'venueTimeMs']

export const APPLY_UNREAD_MEMBERS: ReadonlyMap<EventType, readonly string[]> = new Map<EventType, readonly string[]>([
  ['order.accepted', ['decision']],
  ['order.send_requested', ['gate']],
  ['inbox.report_accepted', REPORT_UNREAD.map((member) => `report.${member}`)],
  ['order.call_completed', ['detail']],
  // The config digest and build a cancel was decided under (attribution.ts): audit detail, on the most frequent control
  // records, passed over undecoded (~100 bytes of text each) as the acceptances' decision records are.
  ['order.cancel_requested', ['configDigest', 'buildCommit']],
  ['order.canceled', ['configDigest', 'buildCommit']],
])
