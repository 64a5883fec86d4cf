/**
 * The break keys a windowed check looked at: reconcile clears an open break of such a check only if its key is among
 * them (a break whose order left the window was not seen because it was not looked at, not because it was mended).
 *
 * A run of the venue trades check looks at every held order within the venue's trade history, tens of thousands at
 * bench:http's rates, and each has a key of its own (`venue_trades:<venue>:order:<orderId>`); building every key's
 * string to answer the few open breaks cost more than the comparison. So keys that share a prefix are held as the
 * prefix and the set of what follows it, and `has` looks a key up in both.
 */

/** A test for a suffix, with a way to list the suffixes it answers true for. */
export interface SuffixTest {
  has(suffix: string): boolean
  each(): Iterable<string>
}

export class CoveredKeys implements Iterable<string> {
  private readonly keys = new Set<string>()
  private readonly groups: { prefix: string; suffixes: ReadonlySet<string> | SuffixTest }[] = []

  add(key: string): void {
    this.keys.add(key)
  }

  /** Covers `prefix + suffix` for every suffix in `suffixes` (held by reference: the caller no longer changes it). */
  addEach(prefix: string, suffixes: ReadonlySet<string>): void {
    if (suffixes.size > 0) this.groups.push({ prefix, suffixes })
  }

  /**
   * Covers `prefix + suffix` for every suffix `suffixes.has` answers true for, asked when `has` is (the trades check's
   * orders with nothing to compare, compared-window.ts); `each` lists them, for iteration only.
   */
  addLazy(prefix: string, suffixes: SuffixTest): void {
    this.groups.push({ prefix, suffixes })
  }

  /** Covers everything `other` covers. */
  addAll(other: CoveredKeys): void {
    for (const key of other.keys) this.keys.add(key)
    this.groups.push(...other.groups)
  }

  has(key: string): boolean {
    if (this.keys.has(key)) return true
    for (const { prefix, suffixes } of this.groups) if (key.startsWith(prefix) && suffixes.has(key.slice(prefix.length))) return true
    return false
  }

  /** Every key covered (each once), built on demand: for tests and reports, not the reconcile's own path. */
  *[Symbol.iterator](): Iterator<string> {
    const seen = new Set(this.keys)
    yield* this.keys
    for (const { prefix, suffixes } of this.groups) {
      for (const suffix of 'each' in suffixes ? suffixes.each() : suffixes) {
        const key = prefix + suffix
        if (seen.has(key)) continue
        seen.add(key)
        yield key
      }
    }
  }
}
