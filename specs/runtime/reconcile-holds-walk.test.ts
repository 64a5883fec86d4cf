/**
 * The executor's read-back back-offs (src/runtime/reconcile-holds.ts) cost each pump only the back-offs that ended.
 * With a venue unreachable every Unknown order backs off (thousands), and under load the executor pumps many times a
 * second: each pump dropped the ended ones (dropExpired) and found the first end (dueMsBefore) by walking every one
 * (~10,000 looks a pump with 5,000 backing off, ~50 us). The back-offs' ends are kept in a heap instead; these specs
 * count the entries looked at (Map iteration and heap pops, whichever the holds use) and check the same holds result.
 */

import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { MinHeap } from '../../src/kernel/min-heap.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import { ReconcileHolds } from '../../src/runtime/reconcile-holds.ts'

/** Counts the Map entries iterated and the heap entries popped or walked by retain, while installed. */
class LookCounter {
  looks = 0
  private readonly restores: Array<() => void> = []

  install(): void {
    const counter = this
    const mapProto = Map.prototype as unknown as Record<PropertyKey, (...args: unknown[]) => Iterator<unknown>>
    for (const name of ['entries', 'values', 'keys', Symbol.iterator] as PropertyKey[]) {
      const original = mapProto[name] as (...args: unknown[]) => Iterator<unknown>
      mapProto[name] = function (this: Map<unknown, unknown>, ...args: unknown[]): Iterator<unknown> {
        const iterator = original.apply(this, args)
        return {
          next: () => {
            const result = iterator.next()
            if (result.done !== true) counter.looks++
            return result
          },
          [Symbol.iterator]() {
            return this
          },
        } as Iterator<unknown>
      }
      this.restores.push(() => {
        mapProto[name] = original
      })
    }
    const originalForEach = Map.prototype.forEach
    Map.prototype.forEach = function (this: Map<unknown, unknown>, callback, thisArg) {
      counter.looks += this.size
      originalForEach.call(this, callback, thisArg)
    }
    this.restores.push(() => {
      Map.prototype.forEach = originalForEach
    })
    const heapProto = MinHeap.prototype as unknown as { pop: () => unknown; retain: (keep: unknown) => void }
    const { pop, retain } = heapProto
    heapProto.pop = function (this: MinHeap<unknown>) {
      counter.looks++
      return pop.call(this)
    }
    heapProto.retain = function (this: MinHeap<unknown>, keep: unknown) {
      counter.looks += this.size
      retain.call(this, keep)
    }
    this.restores.push(() => {
      heapProto.pop = pop
      heapProto.retain = retain
    })
  }

  restore(): void {
    for (const restore of this.restores.splice(0).reverse()) restore()
  }

  /** Runs `look` with the counting installed. */
  counted<T>(look: () => T): T {
    this.install()
    try {
      return look()
    } finally {
      this.restore()
    }
  }
}

const counter = new LookCounter()
beforeEach(() => {
  counter.looks = 0
})
afterEach(() => counter.restore())

describe('a pump looks only at the read-back back-offs that ended', () => {
  test('with 5,000 backing off, 1,000 pumps look at the ended ones, not at every one per pump, and hold the same', () => {
    const clock = new SimClock({ startMs: 0 })
    const holds = new ReconcileHolds({ clock, reconcileRetryMs: 1_000 })
    const ends = new Map<string, number>()
    for (let index = 0; index < 5_000; index++) {
      const orderId = `o${index}`
      // Every 50th ends within the pumps below (from 1,001 to 1,991, a venue's Retry-After rounded up), the others long after.
      const retryAfterMs = index % 50 === 0 ? 1_000 + index / 5 + 0.5 : 30_000 + index
      holds.backOff(orderId, retryAfterMs)
      ends.set(orderId, Math.max(1_000, Math.ceil(retryAfterMs)))
    }
    let ended = 0
    for (let pump = 0; pump < 1_000; pump++) {
      clock.advance(2)
      // As the executor's pump: drop the ended back-offs, pick (held), arm the timer at the first end.
      const nowMs = counter.counted(() => {
        holds.dropExpired()
        return holds.pickAt(clock.nowMs())
      })
      for (const [orderId, endMs] of [...ends]) {
        if (endMs > nowMs) continue
        ends.delete(orderId)
        ended++
      }
      const firstEndMs = Math.min(...ends.values())
      expect(counter.counted(() => holds.dueMsBefore(Number.POSITIVE_INFINITY))).toBe(firstEndMs)
      expect(counter.counted(() => holds.dueMsBefore(nowMs + 1))).toBe(Math.min(nowMs + 1, firstEndMs))
      for (const orderId of ['o0', 'o50', 'o2450', 'o4950', 'o1', 'o4999']) expect(counter.counted(() => holds.held.has(orderId))).toBe(ends.has(orderId))
    }
    expect(ended).toBe(100)
    // The ended back-offs and a few per pump; the walk looked at 10,000 a pump (10,000,000 here).
    expect(counter.looks).toBeLessThanOrEqual(2 * (ended + 1_000))
  })

  test('a back-off set again holds to its new end, shorter or longer, and the ends it replaced stay few', () => {
    const clock = new SimClock({ startMs: 0 })
    const holds = new ReconcileHolds({ clock, reconcileRetryMs: 1_000 })
    holds.backOff('o1', 5_000)
    holds.backOff('o1')
    expect(holds.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(1_000)
    holds.backOff('o2', 3_000)
    holds.backOff('o2', 8_000)
    clock.advance(1_000)
    holds.dropExpired()
    holds.pickAt(clock.nowMs())
    expect(holds.held.has('o1')).toBe(false)
    expect(holds.held.has('o2')).toBe(true)
    // o2's first end (3,000) was replaced: not the timer's, nor a release.
    expect(holds.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(8_000)
    // o1 backs off again before its replaced end (5,000) comes: that end does not release it.
    holds.backOff('o1', 4_500)
    clock.advance(4_000)
    holds.dropExpired()
    holds.pickAt(clock.nowMs())
    expect(holds.held.has('o1')).toBe(true)
    expect(holds.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(5_500)
    clock.advance(500)
    holds.dropExpired()
    holds.pickAt(clock.nowMs())
    expect(holds.held.has('o1')).toBe(false)
    expect(holds.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(8_000)

    // 10,000 shorter back-offs set on one order (an operator's read-backs, each unanswered) leave few ends behind.
    for (let index = 0; index < 10_000; index++) holds.backOff('o3', 59_000 - index)
    expect(holds.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(8_000)
    clock.advance(60_000)
    counter.counted(() => holds.dropExpired())
    expect(counter.looks).toBeLessThanOrEqual(100)
    expect(holds.dueMsBefore(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY)
    holds.pickAt(clock.nowMs())
    expect(holds.held.has('o3')).toBe(false)
  })
})
