/**
 * Invariant assertions (STYLE: TigerBeetle). An assertion failure is a programmer error — a bug in egress — never an
 * operating condition and never a 4xx. Code that can fail for operating reasons returns a typed outcome instead.
 */

export class AssertionError extends Error {
  override readonly name = 'AssertionError'
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(`assertion failed: ${message}`)
}

/** Exhaustiveness check for discriminated unions: reaching it is a bug. */
export function unreachable(value: never, message: string): never {
  throw new AssertionError(`unreachable: ${message}: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`)
}
