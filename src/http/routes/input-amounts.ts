/**
 * The order amounts the transport refuses that the kernel takes: a leading zero before another digit (qty "007.5",
 * price "00100"). The kernel's syntax guard (kernel/intake/guard-syntax.ts) takes them as 7.5 and 100, as every build
 * before this rule did: it is what a standby re-decides a leader's recorded body with (ha/shadow.ts), so a standby on
 * this build agrees with a leader on an older one. The refusal is the transport's, before the kernel, and only for a
 * request whose key the kernel does not hold: a retry of an order an older leader accepted under the key is answered
 * the first answer, not 400 — which a client could read as "not placed" and place again under a new key.
 */

import { isInputDecimalText, INPUT_DECIMAL_TEXT_RULE } from '../../domain/decimal.ts'
import { ApiError } from '../errors.ts'

/** The amount fields of an order body, by the path an issue names (`qty`, `orders.0.price`). */
const AMOUNT_FIELDS = ['qty', 'price'] as const

/**
 * Throws 400 VALIDATION_FAILED naming each amount in `orders` (already parsed by the lenient schema) written with a
 * leading zero, unless `held` (the kernel holds the request's key: it answers, refusing nothing new).
 */
export function refuseLeadingZeroAmounts(orders: readonly { path: string; body: unknown }[], held: boolean): void {
  if (held) return
  const issues: { path: string; message: string }[] = []
  for (const order of orders) {
    for (const field of AMOUNT_FIELDS) {
      const text = (order.body as Record<string, unknown>)[field]
      if (typeof text === 'string' && !isInputDecimalText(text)) issues.push({ path: `${order.path}${field}`, message: `expected ${INPUT_DECIMAL_TEXT_RULE}` })
    }
  }
  const first = issues[0]
  if (first === undefined) return
  throw new ApiError('VALIDATION_FAILED', `${first.path}: ${first.message}`, { details: { issues } })
}
