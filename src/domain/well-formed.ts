/**
 * Strings as well-formed UTF-16 (no lone surrogates). JSON from outside (HTTP bodies, a venue's messages) can carry a
 * lone surrogate as an escape ("\ud800"); UTF-8 cannot hold one, so the log would record U+FFFD while the state built
 * live kept the surrogate — the leader's state would then differ from its own after a restart and from the standby's,
 * and a repeated report's exec id would no longer match. Commands are made well-formed before the kernel decides them
 * (src/runtime/engine.ts), so every event it emits round-trips through the log exactly; the payload writer refuses
 * anything else (src/domain/events/binary-writer.ts).
 */

/** `value` with every string in it made well-formed (each lone surrogate → U+FFFD); the same object when all are. */
export function wellFormedDeep<T>(value: T): T {
  return isWellFormedDeep(value) ? value : (copyWellFormed(value) as T)
}

/** Whether every string in `value` (through arrays and plain objects) is well-formed. Allocates nothing. */
export function isWellFormedDeep(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed()
  if (typeof value !== 'object' || value === null) return true
  if (Array.isArray(value)) {
    for (const item of value) if (!isWellFormedDeep(item)) return false
    return true
  }
  if (!isPlainObject(value)) return true
  for (const key in value) {
    if (!key.isWellFormed() || !isWellFormedDeep((value as Record<string, unknown>)[key])) return false
  }
  return true
}

function copyWellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.toWellFormed()
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(copyWellFormed)
  if (!isPlainObject(value)) return value
  const copy: Record<string, unknown> = {}
  for (const key in value) copy[key.toWellFormed()] = copyWellFormed((value as Record<string, unknown>)[key])
  return copy
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown
  return prototype === Object.prototype || prototype === null
}
