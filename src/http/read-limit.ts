/**
 * `limitReads`: charges every GET (and HEAD) under /v1 to its caller's read budget (backpressure/read-budget.ts) and
 * answers 429 RATE_LIMITED with Retry-After past it, in the API's one error shape (`details.scope` "read"). Mounted
 * after requireAuth, so the caller is known and a request without a valid token costs nobody's budget; writes pass
 * through untouched (cancels must never be held back).
 */

import type { MiddlewareHandler } from 'hono'
import { principalOf, type AuthEnv } from './auth/index.ts'
import type { ReadBudget } from './backpressure/index.ts'
import { ApiError } from './errors.ts'

export function limitReads(budget: ReadBudget): MiddlewareHandler<AuthEnv> {
  // Not async: nothing to await of its own, so it hands on next()'s promise rather than make one per request.
  return function limitReads(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') {
      const admission = budget.take(principalOf(c).sub)
      if (!admission.ok) {
        throw new ApiError('RATE_LIMITED', 'reads are being shed (read limit of this caller); retry later', {
          headers: { 'Retry-After': String(admission.retryAfterSec) },
          details: { scope: 'read', retry_after_sec: admission.retryAfterSec },
        })
      }
    }
    return next()
  }
}
