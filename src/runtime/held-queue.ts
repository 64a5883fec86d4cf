/**
 * What waits for the log's room, oldest first (held reports: report-intake.ts; held venue answers: held-answers.ts):
 * taken from the head by an index, not Array.shift (O(n) per item), the array compacted once the head has passed
 * half of it.
 */

/** Items taken before the array is compacted at the earliest. */
const COMPACT_AFTER_ITEMS = 1024

export class HeldQueue<T> {
  #items: T[] = []
  #head = 0

  get size(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    this.#items.push(item)
  }

  /** The oldest item; undefined when empty. */
  first(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined
  }

  /** Drops the oldest item. */
  dropFirst(): void {
    if (this.size === 0) return
    this.#head++
    if (this.size === 0) this.clear()
    else if (this.#head > COMPACT_AFTER_ITEMS && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
  }

  /** Whether any item satisfies `test`. */
  some(test: (item: T) => boolean): boolean {
    for (let index = this.#head; index < this.#items.length; index++) if (test(this.#items[index] as T)) return true
    return false
  }

  /** Empties the queue and returns what it held, oldest first. */
  takeAll(): T[] {
    const items = this.#items.slice(this.#head)
    this.clear()
    return items
  }

  clear(): void {
    this.#items = []
    this.#head = 0
  }
}
