/**
 * The executor's deadline on every venue call it makes (a place, cancel or amend: venue-send.ts; a read-back's query,
 * an open-order listing: query-call.ts). The adapter contract says every call resolves, and every shipped adapter times
 * its requests out, but nothing bounded how long: an adapter bug (a lost promise, a dead socket it did not notice) kept
 * the call out until a restart — its order's call slot and its instrument's with it (with callsPerInstrumentMax 1 no
 * cancel on the instrument went) and one call of the executor's budget (callsInFlightMax).
 *
 * So a call still out at its deadline is answered `unknown`, exactly as the adapter's own timeout answers it: a send's
 * order goes Unknown and is read back by its client order id before anything else (never sent again as a new order),
 * a read-back's query goes unanswered and is asked again after the back-off. The deadline runs on the executor's clock
 * and is derived from the adapter's own request timeout (VenueAdapter.requestTimeoutMs): twice it. A well-behaved
 * adapter has answered by then — its timer fires first on the same event loop — so only a call the adapter lost
 * reaches it; the other half is margin for a timer on another clock (JSONL's wall-clock setTimeout) and a loaded loop.
 * The timer is cancelled when the call settles; the call's late answer is ignored (its rejection caught), and each
 * call answered at its deadline is counted (ExecutorStats.callsPastDeadline) and reported once (VENUE_CALL_DEADLINE).
 */

import type { Clock } from '../domain/clock.ts'
import type { VenueAdapter, VenueOutcome } from '../venues/adapter.ts'
import { thrownOutcome } from './read-back.ts'

export const VENUE_CALL_DEADLINE = 'VENUE_CALL_DEADLINE'

/** A venue call its adapter did not answer by the executor's deadline: answered `unknown`, its late answer ignored. */
export class VenueCallDeadlineError extends Error {
  override readonly name = 'VenueCallDeadlineError'
  readonly code = VENUE_CALL_DEADLINE
}

/**
 * The request timeout taken for an adapter that declares none: the longest a venue's requestTimeoutMs may be configured
 * (src/config/venues.ts), so no configured adapter is cut short.
 */
export const ADAPTER_TIMEOUT_MS_ASSUMED = 600_000

/** The deadline is this many times the adapter's own request timeout (see the header). */
const DEADLINE_TIMEOUTS = 2

/**
 * Which of an adapter's calls: a listing of open orders may take several requests (VenueAdapter.openOrdersTimeoutMs).
 * `trades` and `balances`: the back office's reconcile asks them (src/backoffice/external-checks.ts), on its clock.
 */
export type DeadlinedCall = 'place' | 'cancel' | 'amend' | 'query' | 'openOrders' | 'trades' | 'balances'

/** How long the executor waits for `adapter`'s answer to `call` before it answers it `unknown` itself. */
export function callDeadlineMs(adapter: Pick<VenueAdapter, 'requestTimeoutMs' | 'openOrdersTimeoutMs'>, call: DeadlinedCall): number {
  const ownMs = (call === 'openOrders' ? adapter.openOrdersTimeoutMs : undefined) ?? adapter.requestTimeoutMs
  const valid = typeof ownMs === 'number' && Number.isFinite(ownMs) && ownMs > 0
  return Math.min(DEADLINE_TIMEOUTS * (valid ? ownMs : ADAPTER_TIMEOUT_MS_ASSUMED), TIMER_MS_MAX)
}

/** The longest delay a timer takes (setTimeout's): past it, it fires at once. */
const TIMER_MS_MAX = 2 ** 31 - 1

/** What a deadline needs of the executor: its clock, and where a call answered at its deadline is told (once each). */
export interface CallDeadlines {
  readonly clock: Clock
  passed(venue: string, call: DeadlinedCall, orderId: string | null, deadlineMs: number): void
}

/**
 * `answer` (an adapter call's promise), or `unknown` once `adapter`'s deadline for `call` passes first. A rejection is
 * answered as a thrown adapter's (unknown); one after the deadline is caught and ignored.
 */
export function withinDeadline<T>(
  answer: Promise<VenueOutcome<T>>,
  adapter: VenueAdapter,
  call: DeadlinedCall,
  orderId: string | null,
  deadlines: CallDeadlines,
): Promise<VenueOutcome<T>> {
  const deadlineMs = callDeadlineMs(adapter, call)
  return new Promise<VenueOutcome<T>>((resolve) => {
    let settled = false
    const cancel = deadlines.clock.schedule(deadlineMs, () => {
      if (settled) return
      settled = true
      resolve({ kind: 'unknown', reason: `${VENUE_CALL_DEADLINE}: no answer from the adapter in ${deadlineMs} ms` })
      deadlines.passed(adapter.venue, call, orderId, deadlineMs)
    })
    answer.then(
      (outcome) => {
        if (settled) return
        settled = true
        cancel()
        resolve(outcome)
      },
      (error: unknown) => {
        if (settled) return
        settled = true
        cancel()
        resolve(thrownOutcome(error))
      },
    )
  })
}

/** The executor's deadlines: each call answered at its deadline counted (callsPastDeadline) and told to onError. */
export function callDeadlinesFor(options: { clock: Clock; onError: (error: unknown, context: string) => void }, stats: { callsPastDeadline: number }): CallDeadlines {
  return {
    clock: options.clock,
    passed: (venue, call, orderId, deadlineMs) => {
      stats.callsPastDeadline++
      options.onError(deadlineError(venue, call, orderId, deadlineMs), orderId === null ? `${call} of ${venue}` : `${call} of ${orderId}`)
    },
  }
}

/** The error a call answered at its deadline is reported with. */
export function deadlineError(venue: string, call: DeadlinedCall, orderId: string | null, deadlineMs: number): VenueCallDeadlineError {
  const what = orderId === null ? `${venue} ${call}` : `${venue} ${call} of ${orderId}`
  return new VenueCallDeadlineError(`${VENUE_CALL_DEADLINE}: ${what} not answered by its adapter in ${deadlineMs} ms (twice its request timeout): answered unknown, a late answer is ignored`)
}
