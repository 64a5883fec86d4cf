/** Invariant checks. A failed assertion is a bug in egress, never an operating error, and never a 4xx. */

export class AssertionError extends Error {
  override readonly name = 'AssertionError'
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}
