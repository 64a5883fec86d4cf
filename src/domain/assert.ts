/**
 * Invariant assertions (STYLE: TigerBeetle). An assertion failure is a programmer error — a bug in egress — never an
 * operating condition and never a 4xx. Code that can fail for operating reasons returns a typed outcome instead.
 */

export class AssertionError extends Error {
  override readonly name = 'AssertionError'
}

/**
 * `message` may be a function, so the text — often with numbers or decimals formatted into it — is built only when
 * the assertion fails. Hot paths (apply runs once per event, also in replay) write `if (!ok) assert(false, text)`
 * instead: the text is still built only on failure, and no closure (a function and the scope it captures) is
 * allocated per call — apply's closures were ~60 of the ~940 objects an order allocated (scripts/probe-alloc.ts).
 */
export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(`assertion failed: ${typeof message === 'function' ? message() : message}`)
}

/** Exhaustiveness check for discriminated unions: reaching it is a bug. */
export function unreachable(value: never, message: string): never {
  throw new AssertionError(`unreachable: ${message}: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`)
}
