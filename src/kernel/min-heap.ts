/**
 * A binary min-heap of items by a numeric key (the work index's FIFO positions and due times). Keys and items are
 * kept in two parallel arrays so a push allocates nothing beyond the arrays' growth. Items with equal keys come out
 * in no particular order; the work index never gives two live items the same position.
 */
export class MinHeap<T> {
  private readonly keys: number[] = []
  private readonly items: T[] = []

  get size(): number {
    return this.items.length
  }

  /** The smallest key, or +Infinity when empty. */
  peekKey(): number {
    return this.keys.length === 0 ? Number.POSITIVE_INFINITY : (this.keys[0] as number)
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(key: number, item: T): void {
    const { keys, items } = this
    let index = items.length
    keys.push(key)
    items.push(item)
    // Keys mostly arrive in increasing order (new work joins the back of its lane): the loop then stops at once.
    while (index > 0) {
      const parent = (index - 1) >> 1
      const parentKey = keys[parent] as number
      if (parentKey <= key) break
      keys[index] = parentKey
      items[index] = items[parent] as T
      index = parent
    }
    keys[index] = key
    items[index] = item
  }

  pop(): T | undefined {
    const { keys, items } = this
    const count = items.length
    if (count === 0) return undefined
    const top = items[0]
    const key = keys.pop() as number
    const item = items.pop() as T
    if (count > 1) this.siftDown(0, key, item)
    return top
  }

  /** Keeps only the items `keep` accepts (given each one's key), in heap order again (O(n)): drops stale entries in one pass. */
  retain(keep: (item: T, key: number) => boolean): void {
    const { keys, items } = this
    let kept = 0
    for (let index = 0; index < items.length; index++) {
      const item = items[index] as T
      const key = keys[index] as number
      if (!keep(item, key)) continue
      keys[kept] = key
      items[kept] = item
      kept++
    }
    keys.length = kept
    items.length = kept
    for (let index = (kept >> 1) - 1; index >= 0; index--) this.siftDown(index, keys[index] as number, items[index] as T)
  }

  private siftDown(start: number, key: number, item: T): void {
    const { keys, items } = this
    const count = items.length
    let index = start
    for (;;) {
      let child = 2 * index + 1
      if (child >= count) break
      const right = child + 1
      if (right < count && (keys[right] as number) < (keys[child] as number)) child = right
      const childKey = keys[child] as number
      if (childKey >= key) break
      keys[index] = childKey
      items[index] = items[child] as T
      index = child
    }
    keys[index] = key
    items[index] = item
  }
}
