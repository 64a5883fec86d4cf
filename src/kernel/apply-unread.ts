/**
 * Members of recorded events that apply() never reads: explanation and audit detail, kept in the log for the HTTP
 * explain endpoints, the back office and the audit, but not part of the kernel state. Restart replay into the kernel
 * leaves them out unparsed (they are most of the log's bytes: an acceptance's decision record carries every guard's
 * inputs, a send request every gate check). Adding a member here is only correct if apply (and everything it calls)
 * never looks at it; specs/runtime/replay-unread.test.ts replays a varied run both ways and compares state digests,
 * and the simulation compares replayed with live state.
 */

import type { EventType } from '../domain/events/index.ts'

export const APPLY_UNREAD_MEMBERS: ReadonlyMap<EventType, string> = new Map<EventType, string>([
  ['order.accepted', 'decision'],
  ['order.send_requested', 'gate'],
])
