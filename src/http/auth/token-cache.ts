/**
 * Verified tokens, remembered until they expire so a busy bot does not pay a signature check per request.
 * Bounded: at `entriesMax` the least recently used entry is evicted. Cleared whenever the trusted keys change, so
 * a rotated-out key cannot outlive a JWKS reload through the cache.
 */

import type { Principal } from './principal.ts'

interface Entry<V> {
  value: V
  expiresAtMs: number
}

/** `V`: what a verified token is remembered as (its principal, by default). */
export class TokenCache<V = Principal> {
  readonly #entries = new Map<string, Entry<V>>()
  readonly #entriesMax: number

  constructor(entriesMax: number) {
    this.#entriesMax = entriesMax
  }

  get size(): number {
    return this.#entries.size
  }

  /** The cached value if the token was verified and has not expired at `nowMs`. */
  get(token: string, nowMs: number): V | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined) return undefined
    this.#entries.delete(token)
    if (nowMs >= entry.expiresAtMs) return undefined
    // Re-insert so Map order is recency order and eviction takes the least recently used.
    this.#entries.set(token, entry)
    return entry.value
  }

  set(token: string, value: V, expiresAtMs: number): void {
    if (this.#entriesMax === 0) return
    this.#entries.delete(token)
    this.#entries.set(token, { value, expiresAtMs })
    while (this.#entries.size > this.#entriesMax) {
      const oldest = this.#entries.keys().next()
      if (oldest.done === true) break
      this.#entries.delete(oldest.value)
    }
  }

  clear(): void {
    this.#entries.clear()
  }
}
