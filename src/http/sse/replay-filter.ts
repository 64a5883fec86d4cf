/**
 * Records a replay passes without decoding them. A replay decodes every record it reads to judge whether its stream
 * wants it (~10 µs warm for a validating decode, several times that cold), and an order or account stream wants few:
 * an order stream resumed over a busy log decoded every other order's records only to drop them. Replays together
 * hold at most half of the event loop (replay-turns.ts), so that cost set how fast they could read: at ~10 µs a record,
 * all of them together about 50,000 records a second, and a log growing faster than its replays' share kept them
 * behind for good (a few resumed streams against `bench:http`'s half load, ~3,500 orders and ~20,000 records a
 * second) — streams that never went live.
 *
 * A record's order id is read without decoding it (orderIdOfRecord, as the log index does, ~1 µs). A record of
 * another order than an order stream's, or of an order the kernel holds for another account than an account stream's
 * (an order's id is made from its account, so none of its records names another), is passed as the decoded record
 * would have been. Anything else is decoded and judged by `matches` as before; a global stream wants every record.
 */

import { orderIdOfRecord } from '../../domain/events/index.ts'
import type { Engine } from '../../runtime/engine.ts'
import type { Frame } from '../../../wal/index.ts'
import type { StreamScope } from './stream-events.ts'

/** Whether the stream of `scope` certainly does not want `frame`, judged without decoding it. */
export function passedUndecoded(engine: Engine, scope: StreamScope, frame: Frame): boolean {
  if (scope.kind === 'global') return false
  const orderId = orderIdOfRecord(frame)
  if (scope.kind === 'order') return orderId !== scope.orderId
  if (orderId === null) return false
  const held = engine.state.orders.get(orderId)
  return held !== undefined && held.accountId !== scope.accountId
}
