/**
 * A clean stop's drain (Gateway.stop): once intake and the executor have stopped, the commands already submitted are
 * given a bounded time to become durable and be answered, and then the engine takes no more. Only after that is the
 * shutdown seal taken, so it signs a head that holds everything submitted before intake stopped, and it is the log's
 * last record: a venue answer or a back-office run that comes back later is refused (WalClosedError), not recorded
 * after the seal. An order whose answer is refused so stays in flight in the log, and the next start reads it back.
 *
 * Before, the seal came first and the engine was waited for after it: a command still queued for the log when the
 * seal read the head was left unsealed, and a venue answer landing while the stop finished was logged after the seal,
 * which the next start of a single node took for a record appended while no gateway ran (ANCHOR_MISMATCH: the tamper
 * response, HALT, on a clean restart).
 */

import { WalClosedError } from '../../wal/index.ts'
import type { Clock } from '../domain/clock.ts'
import type { Engine } from './engine.ts'

/**
 * How long a stop waits for the commands already submitted. A record is durable within a group commit; what can wait
 * longer is a place or amend held for the standby under synchronous replication (place-send-gate.ts), whose own wait
 * is bounded. A venue is never waited for: its calls in flight are not commands yet.
 */
export const STOP_DRAIN_MS_MAX = 10_000

/** What the drain saw: whether every submitted command was answered in time, and how many were still waiting. */
export interface StopDrain {
  settled: boolean
  pending: number
}

/** Waits (at most `boundMs` on `clock`) for the engine to settle, then closes it to everything but the stop's records. */
export async function drainForStop(engine: Engine, clock: Clock, boundMs: number = STOP_DRAIN_MS_MAX): Promise<StopDrain> {
  let cancel: () => void = () => undefined
  const timedOut = new Promise<false>((resolve) => {
    cancel = clock.schedule(boundMs, () => resolve(false))
  })
  try {
    const settled = await Promise.race([engine.settled().then(() => true as const), timedOut])
    engine.closeForStop('the gateway is stopping: no command is taken any more')
    // Between the engine settling and the close, the continuations its settling released ran (a caller resuming
    // after its commit submits its next command: an executor's answer, a back-office run): accepted, still pending.
    // Nothing can join them now; the seal must come after them, or they land between the head it signs and its own
    // record, unsealed (specs/runtime/audit-duty.test.ts saw 3 once in CI).
    const closedSettled = settled && (await Promise.race([engine.settled().then(() => true as const), timedOut]))
    return { settled: closedSettled, pending: engine.pending }
  } finally {
    cancel()
  }
}

/**
 * Whether `error` is the engine refusing a command because the gateway is stopping (closeForStop): expected for a
 * venue answer or report that comes back after the drain, whose order stays in flight in the log and is read back at
 * the next start. Callers count it rather than report it as an error.
 */
export function isRefusedAtStop(error: unknown): boolean {
  return error instanceof WalClosedError
}
