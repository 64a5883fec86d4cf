/**
 * The index of ended orders holding for synthetic quantity (src/kernel/synthetic-held-ended.ts), which hold rule 2's
 * retirement walks: it always lists exactly the ended orders that hold, in (end time, order id) order, whatever order
 * they started to hold in, and one built from the Map (a restored snapshot) lists them as the one kept up live did —
 * through random ends, holds taken late, holds released and retirements. A reference recomputed from scratch checks it.
 */

import { expect, test } from 'bun:test'
import { dropHeldEnded, forgetHeldEnded, heldEndedThrough, noteHeldEnded } from '../../src/kernel/synthetic-held-ended.ts'

type World = { held: Set<string> }
const holds = (world: World, orderId: string): boolean => world.held.has(orderId)

function reference(ended: Map<string, number>, world: World, throughMs: number): string[] {
  return [...ended]
    .filter(([orderId, endedAtMs]) => world.held.has(orderId) && endedAtMs <= throughMs)
    .sort(([a, at], [b, bt]) => at - bt || (a < b ? -1 : a > b ? 1 : 0))
    .map(([orderId]) => orderId)
}

function randomOf(seed: number): (below: number) => number {
  let a = seed >>> 0
  return (below) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below)
  }
}

test('the index lists exactly the ended orders holding, by end time then id, live and rebuilt alike', () => {
  for (const seed of [1, 2, 3, 58, 59]) {
    const random = randomOf(seed)
    const ended = new Map<string, number>()
    const world: World = { held: new Set() }
    let nowMs = 1_000
    for (let step = 0; step < 2_000; step++) {
      // Times that mostly rise, sometimes repeat (ties) and sometimes step back (a wall clock's step).
      nowMs += random(4) - 1
      const orderId = `o-${random(60)}`
      switch (random(5)) {
        case 0: // ends (or is already ended)
          if (!ended.has(orderId)) ended.set(orderId, nowMs)
          break
        case 1: // takes a hold (a synthetic fill: at its end, or long after it)
          world.held.add(orderId)
          break
        case 2: // a true-up releases it
          world.held.delete(orderId)
          break
        case 3: // reopens
          ended.delete(orderId)
          break
        case 4: // retires
          if (ended.delete(orderId)) {
            world.held.delete(orderId)
            forgetHeldEnded(ended, orderId)
            continue
          }
      }
      noteHeldEnded(ended, orderId, world, holds)
      const throughMs = nowMs - random(20)
      expect(heldEndedThrough(ended, throughMs, world, holds)).toEqual(reference(ended, world, throughMs))
    }
    const live = heldEndedThrough(ended, Number.POSITIVE_INFINITY, world, holds)
    dropHeldEnded(ended)
    expect(heldEndedThrough(ended, Number.POSITIVE_INFINITY, world, holds)).toEqual(live)
    expect(heldEndedThrough(new Map(ended), Number.POSITIVE_INFINITY, world, holds)).toEqual(live)
  }
})

test('an entry changed behind the index fails its check instead of retiring another order', () => {
  const ended = new Map([['a', 5]])
  const world: World = { held: new Set(['a']) }
  noteHeldEnded(ended, 'a', world, holds)
  world.held.delete('a') // released without a note
  expect(() => heldEndedThrough(ended, 10, world, holds)).toThrow(/changed behind its index/)
})
