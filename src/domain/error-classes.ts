/**
 * Error classes (§16 I-102): how a failure may be treated. Every reason code belongs to exactly one class.
 * - definite_reject: nothing happened and nothing will; retrying the same request gives the same answer.
 * - retryable: nothing happened; the same request may succeed later (overload, stale data, throttling).
 * - outcome_unknown: something may have happened (timeout after send); only reconciliation can tell.
 * - conflict: the request contradicts an earlier one (same idempotency key, different body).
 * - internal: a bug or a broken invariant inside egress.
 */

export const ERROR_CLASSES = ['definite_reject', 'retryable', 'outcome_unknown', 'conflict', 'internal'] as const

export type ErrorClass = (typeof ERROR_CLASSES)[number]
