/**
 * `chargeReads`: charges every GET (and HEAD) under /v1 to its caller's read budget (backpressure/read-budget.ts) and
 * answers 429 RATE_LIMITED with Retry-After past it, in the API's one error shape (`details.scope` "read"). Run by
 * requireAuth once the caller is known (app.ts), so a request without a valid token costs nobody's budget; writes pass
 * through untouched (cancels must never be held back).
 */

import type { Context } from 'hono'
import { principalOf, type AuthEnv } from './auth/index.ts'
import type { ReadBudget } from './backpressure/index.ts'
import { ApiError } from './errors.ts'

/**
 * The read limit as a check of an authenticated request (requireAuth's `admitted`): a middleware of its own made a
 * promise, its generator and two closures per request in hono's chain, every order's POST included.
 */
export function chargeReads(budget: ReadBudget): (c: Context<AuthEnv>) => void {
  return function chargeReads(c) {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return
    const admission = budget.take(principalOf(c).sub)
    if (admission.ok) return
    throw new ApiError('RATE_LIMITED', 'reads are being shed (read limit of this caller); retry later', {
      headers: { 'Retry-After': String(admission.retryAfterSec) },
      details: { scope: 'read', retry_after_sec: admission.retryAfterSec },
    })
  }
}
