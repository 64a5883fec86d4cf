/**
 * Guard 1 — syntax: the body must match the order schema exactly (unknown fields, JSON numbers for amounts, a
 * market order with a price are all refused), and an idempotency key must be present (header or client_order_id).
 */

import { safeParsePlaceBody, type PlaceBody } from '../../domain/orders.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'

export interface SyntaxValue {
  body: PlaceBody
  idempotencyKey: string
}

export function syntaxGuard(rawBody: unknown, headerKey: string | null): GuardResult<SyntaxValue> {
  const parsed = safeParsePlaceBody(rawBody)
  if (!parsed.success) {
    const issue = parsed.issues[0]
    const path = issue.path?.map((item) => String(item.key)).join('.') ?? '(body)'
    return failed('SYNTAX_INVALID', { error: `${path}: ${issue.message}` })
  }
  const idempotencyKey = headerKey ?? parsed.output.client_order_id ?? null
  if (idempotencyKey === null || idempotencyKey.length === 0 || idempotencyKey.length > 128) {
    return failed('IDEMPOTENCY_KEY_MISSING', { idempotencyKey })
  }
  return passed({ body: parsed.output, idempotencyKey }, { idempotencyKey, account: parsed.output.account })
}
