import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { GenerationalMap, type GenerationalMapObserver } from '../../src/domain/generational-map.ts'

// A GenerationalMap against a plain Map at every step, with merges pending across writes (generation-merge.ts):
// generations of a few dozen entries, so a merged run holds more than one write's step (MERGE_STEP_ENTRIES_MIN) and
// its copy spans writes, sets and deletes of keys in its sources before and after they are copied, clears, copies
// of the map, and iterators held open (advanced by hand beside a Map iterator, closed, or dropped unclosed).

type Op =
  | { kind: 'set'; key: number; value: number }
  | { kind: 'delete'; key: number }
  | { kind: 'clear' }
  | { kind: 'open'; steps: number }
  | { kind: 'next'; slot: number; steps: number }
  | { kind: 'close'; slot: number }
  | { kind: 'drop'; slot: number }
  | { kind: 'copy' }

const KEYS = 120
const keyName = (key: number): string => `order-${key}`

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 400, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.nat(KEYS - 1), value: fc.integer() }) },
  { weight: 180, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(KEYS - 1) }) },
  { weight: 10, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('open' as const), steps: fc.nat(40) }) },
  { weight: 40, arbitrary: fc.record({ kind: fc.constant('next' as const), slot: fc.nat(3), steps: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('close' as const), slot: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), slot: fc.nat(3) }) },
  { weight: 10, arbitrary: fc.constant({ kind: 'copy' as const }) },
)

/** What an observer hears, and what a plain Map's changes say it should hear. */
function recorder(heard: unknown[]): GenerationalMapObserver<string, number> {
  return {
    added: (key, value) => heard.push(['added', key, value]),
    replaced: (key, value, previous) => heard.push(['replaced', key, value, previous]),
    deleted: (key, value) => heard.push(['deleted', key, value]),
    cleared: () => heard.push(['cleared']),
  }
}

interface Pair {
  actual: Iterator<[string, number]>
  expected: Iterator<[string, number]>
}

function expectSameEverywhere(actual: GenerationalMap<string, number>, expected: Map<string, number>): void {
  expect(actual.size).toBe(expected.size)
  // Every key of the pool, so keys in every generation (and in a merge's sources and copy) are looked up, and every
  // key set, deleted or never set: a key missing from its generation's filter answers undefined here.
  for (let key = 0; key < KEYS; key++) {
    const name = keyName(key)
    expect(actual.has(name)).toBe(expected.has(name))
    expect(actual.get(name)).toBe(expected.get(name))
  }
}

function runScenario(ops: Op[], generationSizeMin: number, generationsTarget: number, stats: { pendingAcrossWrites: number; swapsHeldByIteration: number }): void {
  const options = { generationSizeMin, generationsTarget, mergeStepEntriesMin: 1 }
  let actual = new GenerationalMap<string, number>(null, options)
  const expected = new Map<string, number>()
  let heard: unknown[] = []
  let told: unknown[] = []
  actual.observe(recorder(heard))
  const slots: (Pair | null)[] = [null, null, null, null]
  let pendingBefore = false
  const advance = (pair: Pair, steps: number): void => {
    for (let step = 0; step < steps; step++) {
      const next = pair.actual.next()
      expect(next).toEqual(pair.expected.next())
      if (next.done === true) break
    }
  }
  for (const op of ops) {
    switch (op.kind) {
      case 'set': {
        const name = keyName(op.key)
        const previous = expected.get(name)
        told.push(previous === undefined ? ['added', name, op.value] : ['replaced', name, op.value, previous])
        expect(actual.set(name, op.value)).toBe(actual)
        expected.set(name, op.value)
        if (pendingBefore && actual.mergePending) stats.pendingAcrossWrites++
        break
      }
      case 'delete': {
        const name = keyName(op.key)
        const previous = expected.get(name)
        if (previous !== undefined) told.push(['deleted', name, previous])
        expect(actual.delete(name)).toBe(expected.delete(name))
        break
      }
      case 'clear':
        told.push(['cleared'])
        actual.clear()
        expected.clear()
        break
      case 'open': {
        const free = slots.indexOf(null)
        if (free < 0) break
        const pair = { actual: actual.entries(), expected: expected.entries() }
        slots[free] = pair
        advance(pair, op.steps)
        break
      }
      case 'next': {
        const pair = slots[op.slot]
        if (pair !== null && pair !== undefined) advance(pair, op.steps)
        break
      }
      case 'close': {
        const pair = slots[op.slot]
        if (pair === null || pair === undefined) break
        pair.actual.return?.()
        slots[op.slot] = null
        break
      }
      case 'drop':
        // Left unfinished and never closed: the map stays counted as iterated (held off merging) for good.
        slots[op.slot] = null
        break
      case 'copy': {
        // A copy taken while a merge may be pending and iterations run, then used in place of the original.
        const copy = new GenerationalMap(actual, options)
        expect([...copy]).toEqual([...expected])
        for (const [index, pair] of slots.entries()) {
          pair?.actual.return?.()
          slots[index] = null
        }
        expect(heard).toEqual(told)
        actual = copy
        heard = []
        told = []
        actual.observe(recorder(heard))
        break
      }
    }
    if (actual.mergePending && actual.iterationsActive > 0) stats.swapsHeldByIteration++
    pendingBefore = actual.mergePending
    expectSameEverywhere(actual, expected)
  }
  for (const pair of slots) pair?.actual.return?.()
  expect([...actual]).toEqual([...expected])
  expect([...actual.keys()]).toEqual([...expected.keys()])
  expect(heard).toEqual(told)
}

describe('GenerationalMap merges copied across writes', () => {
  test('answers, iterates and notifies as a Map does at every step, merges pending through sets, deletes, clears, copies and open iterators (seeded)', () => {
    const stats = { pendingAcrossWrites: 0, swapsHeldByIteration: 0 }
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 50, maxLength: 400 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), (ops, generationSizeMin, generationsTarget) => {
        runScenario(ops, generationSizeMin, generationsTarget, stats)
      }),
      { numRuns: 600, seed: 20261123 },
    )
    // The scenarios did reach what they are for: merges pending from one write to the next, and swaps held by walks.
    expect(stats.pendingAcrossWrites).toBeGreaterThan(2_000)
    expect(stats.swapsHeldByIteration).toBeGreaterThan(500)
  }, 60_000)

  test('generations stay within 2 × generationsTarget + 2 while merges are pending (no iteration holds them off)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(KEYS - 1), fc.boolean()), { minLength: 200, maxLength: 1_500 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 16 }), (writes, generationSizeMin, generationsTarget, mergeStepEntriesMin) => {
        const map = new GenerationalMap<string, number>(null, { generationSizeMin, generationsTarget, mergeStepEntriesMin })
        const expected = new Map<string, number>()
        for (const [index, [key, remove]] of writes.entries()) {
          if (remove) expect(map.delete(keyName(key))).toBe(expected.delete(keyName(key)))
          else {
            map.set(keyName(key), index)
            expected.set(keyName(key), index)
          }
          expect(map.generations.length).toBeLessThanOrEqual(2 * generationsTarget + 2)
        }
        expect([...map]).toEqual([...expected])
      }),
      { numRuns: 200, seed: 20261124 },
    )
  })

  test('a bad mergeStepEntriesMin is refused (a programming error)', () => {
    expect(() => new GenerationalMap(null, { generationSizeMin: 4, generationsTarget: 4, mergeStepEntriesMin: 0 })).toThrow('mergeStepEntriesMin must be a positive integer, got 0')
  })
})
