/**
 * Invariant assertions (STYLE: TigerBeetle). An assertion failure is a programmer error — a bug in egress — never an
 * operating condition and never a 4xx. Code that can fail for operating reasons returns a typed outcome instead.
 */

export class AssertionError extends Error {
  override readonly name = 'AssertionError'
}

/**
 * `message` may be a function: hot paths (apply runs once per event, also in replay) pass one so the text — often
 * with numbers or decimals formatted into it — is built only when the assertion fails.
 */
export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(`assertion failed: ${typeof message === 'function' ? message() : message}`)
}

/** Exhaustiveness check for discriminated unions: reaching it is a bug. */
export function unreachable(value: never, message: string): never {
  throw new AssertionError(`unreachable: ${message}: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`)
}
