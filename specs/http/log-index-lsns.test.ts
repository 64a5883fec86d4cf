/**
 * The log index's position lists (src/http/log-index-lsns.ts) keep each order's LSNs in blocks of a typed-array arena,
 * not an array per order. Over seeded random histories — appends (new, repeated and stale LSNs), forgetting below a
 * moving first LSN (the compaction walk, with appends between its slices), a merge of a newer index into an older —
 * they answer exactly as the plain Map<string, number[]> the index used to keep, read every way the index reads them.
 */

import { describe, expect, test } from 'bun:test'
import { LsnLists } from '../../src/http/log-index-lsns.ts'
import { firstAfter, forgetBelow } from '../../src/http/log-index-forget.ts'
import { unslicedWork, WorkSlices } from '../../src/runtime/work-slices.ts'
import { prng } from '../wal/support.ts'

/** The index's lists as they were: an array per order, appended to and forgotten below as log-index.ts did. */
class Reference {
  readonly lists = new Map<string, number[]>()

  append(orderId: string, lsn: number): void {
    const list = this.lists.get(orderId)
    if (list === undefined) this.lists.set(orderId, [lsn])
    else if ((list.at(-1) as number) < lsn) list.push(lsn)
  }

  dropBelow(firstLsn: number): void {
    for (const [orderId, lsns] of this.lists) {
      if ((lsns[0] as number) >= firstLsn) continue
      const kept = firstAfter(lsns, firstLsn - 1)
      if (kept === lsns.length) this.lists.delete(orderId)
      else lsns.splice(0, kept)
    }
  }
}

/**
 * Every read the log index makes of its lists, against the reference, for every order of the pool; and the orders in
 * the same walking order unless `sameOrder` is false.
 */
function expectSame(lists: LsnLists, reference: Reference, orderIds: readonly string[], next: () => number, seed: number, sameOrder = true): void {
  expect({ seed, size: lists.size }).toEqual({ seed, size: reference.lists.size })
  const walkOrder = (keys: Iterable<string>): string[] => (sameOrder ? [...keys] : [...keys].sort())
  expect(walkOrder(lists.orderIds())).toEqual(walkOrder(reference.lists.keys()))
  for (const orderId of orderIds) {
    // Of many orders, a sample (all of them are walked above).
    if (orderIds.length > 1000 && next() < 0.8) continue
    const want = reference.lists.get(orderId) ?? []
    expect({ seed, orderId, has: lists.has(orderId), count: lists.count(orderId), all: lists.all(orderId) })
      .toEqual({ seed, orderId, has: reference.lists.has(orderId), count: want.length, all: want })
    const last = want.at(-1) ?? 0
    for (let probe = 0; probe < 3; probe++) {
      const afterLsn = Math.floor(next() * (last + 3)) - 1
      const start = Math.floor(next() * (want.length + 2))
      const end = start + Math.floor(next() * 5)
      const index = Math.floor(next() * (want.length + 2)) - 1
      expect({ seed, orderId, firstAfter: lists.firstAfter(orderId, afterLsn), slice: lists.slice(orderId, start, end), at: lists.at(orderId, index) })
        .toEqual({ seed, orderId, firstAfter: firstAfter(want, afterLsn), slice: want.slice(start, end), at: index >= 0 ? want[index] : undefined })
    }
  }
}

/** Slices that end after every item, with `between` run at each pause: appends land mid-walk. */
function pausingEverywhere(between: () => void): WorkSlices {
  let nowMs = 0
  return new WorkSlices({ sliceMs: 1, itemsPerClockCheck: 1, nowMs: () => (nowMs += 1), pause: async () => between() })
}

describe('the log index position lists', () => {
  test('answer as a Map of arrays over seeded appends, forgets (with appends between slices) and merges', async () => {
    for (let seed = 1; seed <= 24; seed++) {
      const next = prng(seed)
      // Few orders with long histories, or many with short ones (several chunks of the arena, whose ends are cut into
      // smaller blocks, and blocks of every size).
      const many = seed % 8 === 0
      const orderIds = Array.from({ length: many ? 20_000 : 8 + (seed % 40) }, (_, index) => `order-${seed}-${index}`)
      const pick = (): string => orderIds[Math.floor(next() * orderIds.length)] as string
      const lists = new LsnLists()
      const reference = new Reference()
      let lsn = 1
      const appendFresh = (): void => {
        lsn += 1 + Math.floor(next() * 3)
        const orderId = pick()
        lists.append(orderId, lsn)
        reference.append(orderId, lsn)
      }
      let firstLsn = 1
      const steps = many ? 80_000 : 3000
      const checkEvery = many ? 40_000 : 200
      // A walk visits every order: rarer, and shorter steps of the first LSN, with many orders.
      const forgetRate = many ? 0.0001 : 0.03
      const forgetReach = many ? 0.2 : 1
      for (let step = 1; step <= steps; step++) {
        if (step % checkEvery === 0) expectSame(lists, reference, orderIds, next, seed)
        const roll = next()
        if (roll < 0.9) appendFresh()
        else if (roll < 1 - forgetRate) {
          // An LSN the order may hold already or that is older than its last: left out, as the index's overlap needs.
          const orderId = pick()
          const stale = Math.max(1, lsn - Math.floor(next() * 40))
          lists.append(orderId, stale)
          reference.append(orderId, stale)
        } else {
          firstLsn = Math.min(lsn, firstLsn + Math.floor(next() * forgetReach * (lsn - firstLsn + 1)))
          reference.dropBelow(firstLsn)
          // The walk itself, as the index runs it.
          const walked = await forgetBelow(firstLsn, { positionLists: [lists], accounts: new Map(), heldByKernel: () => false, closed: () => false, slices: unslicedWork() })
          expect(walked).toBe(true)
        }
      }
      expectSame(lists, reference, orderIds, next, seed)
      // Many orders fill more than one chunk of the arena (256 KiB).
      if (many) expect(lists.arenaBytes).toBeGreaterThan(256 * 1024)

      // A walk with appends between its slices: what is appended is above the first LSN and stays. (The reference takes
      // the appends before its walk, so an order the walk emptied and an append brought back is last in one walk
      // order and not in the other: the lists are the same, their order is not compared.)
      firstLsn = Math.min(lsn, firstLsn + Math.floor((lsn - firstLsn) / 2))
      const walked = await forgetBelow(firstLsn, { positionLists: [lists], accounts: new Map(), heldByKernel: () => false, closed: () => false, slices: pausingEverywhere(() => next() < 0.5 && appendFresh()) })
      expect(walked).toBe(true)
      reference.dropBelow(firstLsn)
      expectSame(lists, reference, orderIds, next, seed, false)

      // The background scan's merge: a newer index's lists appended to an older's, order by order.
      const newer = new LsnLists()
      for (let step = 0; step < 500; step++) {
        lsn += 1 + Math.floor(next() * 3)
        const orderId = pick()
        newer.append(orderId, lsn)
        reference.append(orderId, lsn)
      }
      lists.appendAll(newer)
      expectSame(lists, reference, orderIds, next, seed, false)
    }
  }, 60_000)

  test('a history longer than a chunk, thinned by compaction, reads the same; freed blocks serve the next lists', async () => {
    const lists = new LsnLists()
    const reference = new Reference()
    const orderIds = ['long', 'short-1', 'short-2']
    const appendRun = (fromLsn: number, toLsn: number): void => {
      for (let lsn = fromLsn; lsn <= toLsn; lsn++) {
        const orderId = lsn % 10 === 0 ? (orderIds[lsn % 20 === 0 ? 2 : 1] as string) : 'long'
        lists.append(orderId, lsn)
        reference.append(orderId, lsn)
      }
    }
    appendRun(1, 100_000)
    const next = prng(7)
    expectSame(lists, reference, orderIds, next, 0)
    const bytesFull = lists.arenaBytes
    for (const firstLsn of [50_000, 99_000, 99_995, 100_001]) {
      await forgetBelow(firstLsn, { positionLists: [lists], accounts: new Map(), heldByKernel: () => false, closed: () => false, slices: unslicedWork() })
      reference.dropBelow(firstLsn)
      expectSame(lists, reference, orderIds, next, firstLsn)
    }
    expect(lists.size).toBe(0)
    // The same histories again take the blocks the first ones freed: the arena does not grow.
    appendRun(100_001, 200_000)
    expectSame(lists, reference, orderIds, next, 1)
    expect(lists.arenaBytes).toBe(bytesFull)
    lists.clear()
    expect(lists.arenaBytes).toBe(0)
    lists.append('again', 5)
    expect(lists.all('again')).toEqual([5])
  })
})
