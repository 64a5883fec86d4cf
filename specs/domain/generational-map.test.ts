import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { canonicalJson } from '../../src/domain/canonical-json.ts'
import { GenerationalMap } from '../../src/domain/generational-map.ts'
import { isMapLike } from '../../src/domain/map-like.ts'
import { decodeTagged, encodeTagged } from '../../src/backoffice/tagged-json.ts'

// Small generations, so that a few dozen operations span many of them and every path (new generation, write into an
// old one, an old one emptied, lookups through several) runs.
const tiny = { generationSizeMin: 2, generationsTarget: 2 }

type Op =
  | { kind: 'set'; key: string; value: number }
  | { kind: 'delete'; key: string }
  | { kind: 'clear' }
  | { kind: 'get'; key: string }

const keyArb = fc.constantFrom(...Array.from({ length: 24 }, (_, index) => `k${index}`))
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), key: keyArb, value: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
)

function run(map: Map<string, number>, op: Op): unknown {
  switch (op.kind) {
    case 'set':
      return map.set(op.key, op.value) === map
    case 'delete':
      return map.delete(op.key)
    case 'get':
      return [map.get(op.key), map.has(op.key)]
    case 'clear':
      return map.clear()
  }
}

function expectSame(actual: Map<string, number>, expected: Map<string, number>): void {
  expect(actual.size).toBe(expected.size)
  expect([...actual]).toEqual([...expected])
  expect([...actual.keys()]).toEqual([...expected.keys()])
  expect([...actual.values()]).toEqual([...expected.values()])
  const visited: [string, number][] = []
  actual.forEach((value, key, map) => {
    expect(map).toBe(actual)
    visited.push([key, value])
  })
  expect(visited).toEqual([...expected])
  for (let index = 0; index < 26; index++) {
    expect(actual.get(`k${index}`)).toBe(expected.get(`k${index}`))
    expect(actual.has(`k${index}`)).toBe(expected.has(`k${index}`))
  }
}

describe('GenerationalMap', () => {
  test('answers and iterates as a Map does after any sequence of sets, deletes, lookups and clears (seeded)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), (ops, generationSizeMin, generationsTarget) => {
        const actual = new GenerationalMap<string, number>(null, { generationSizeMin, generationsTarget })
        const expected = new Map<string, number>()
        for (const op of ops) expect(run(actual, op)).toEqual(run(expected, op))
        expectSame(actual, expected)
      }),
      { numRuns: 2_000, seed: 20261121 },
    )
  })

  test('a write to a key keeps it in its generation; only new keys go to the youngest; emptied generations are dropped', () => {
    const map = new GenerationalMap<string, number>(null, tiny)
    for (let index = 0; index < 8; index++) map.set(`k${index}`, index)
    expect(map.generations.length).toBeGreaterThan(2)
    const oldest = map.generations[0]!
    const youngSizes = map.generations.map((generation) => generation.size)
    map.set('k0', 100)
    expect(oldest.get('k0')).toBe(100)
    expect(map.generations.map((generation) => generation.size)).toEqual(youngSizes)
    // A deleted key written again moves to the end, as in a Map, and so into the youngest generation.
    map.delete('k1')
    map.set('k1', 1)
    expect(map.generations.at(-1)!.has('k1')).toBe(true)
    expect([...map.keys()].at(-1)).toBe('k1')
    for (const key of [...oldest.keys()]) map.delete(key)
    map.set('k8', 8)
    map.set('k9', 9)
    map.set('k10', 10)
    expect(map.generations.includes(oldest)).toBe(false)
  })

  test('generations grow with the total and neighbours are merged, so there are at most 2 × target + 1', () => {
    const map = new GenerationalMap<number, number>(null, { generationSizeMin: 16, generationsTarget: 8 })
    for (let index = 0; index < 100_000; index++) {
      map.set(index, index)
      if (map.generations.length > 2 * 8 + 1) throw new Error(`${map.generations.length} generations at ${index}`)
    }
    expect(map.size).toBe(100_000)
    expect(Math.max(...map.generations.map((generation) => generation.size))).toBeLessThanOrEqual(Math.ceil(100_000 / 8))
    expect([...map.keys()]).toEqual(Array.from({ length: 100_000 }, (_, index) => index))
  })

  test('a merge is copied a few entries per write of a new key, never in one write (no stall of a whole run)', () => {
    // Counts the Map writes each set() makes, through Map.prototype.set: a merge done at once wrote a whole run of
    // generations (thousands of entries) into the new Map within the one set() that started a generation.
    const options = { generationSizeMin: 64, generationsTarget: 16 }
    const map = new GenerationalMap<string, number>(null, options)
    const reference = new Map<string, number>()
    const nativeSet = Map.prototype.set
    let writes = 0
    let writesMax = 0
    let writesWithCopy = 0
    let pendingSeen = 0
    Map.prototype.set = function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
      writes++
      return nativeSet.call(this, key, value)
    }
    try {
      for (let index = 0; index < 60_000; index++) {
        const key = `order-${(index * 7_919) % 1_000_003}`
        writes = 0
        map.set(key, index)
        writesMax = Math.max(writesMax, writes)
        if (map.copiedByLastWrite > 0) writesWithCopy++
        if (map.mergePending) pendingSeen++
        // Now and then an old key is written again or deleted, so writes into sources being copied are covered.
        if (index % 97 === 0) map.set(`order-${((index >> 1) * 7_919) % 1_000_003}`, -index)
        if (index % 89 === 0) map.delete(`order-${((index >> 2) * 7_919) % 1_000_003}`)
      }
    } finally {
      Map.prototype.set = nativeSet
    }
    for (let index = 0; index < 60_000; index++) {
      const key = `order-${(index * 7_919) % 1_000_003}`
      reference.set(key, index)
      if (index % 97 === 0) reference.set(`order-${((index >> 1) * 7_919) % 1_000_003}`, -index)
      if (index % 89 === 0) reference.delete(`order-${((index >> 2) * 7_919) % 1_000_003}`)
    }
    expect([...map]).toEqual([...reference])
    expect(writesWithCopy).toBeGreaterThan(1_000)
    expect(pendingSeen).toBeGreaterThan(1_000)
    // One entry of its own, and a step of the merge: 16 at least, more only to keep pace (here well under 64).
    expect(writesMax).toBeLessThanOrEqual(64)
    expect(map.generations.length).toBeLessThanOrEqual(2 * 16 + 2)
  })

  test('generations thinned by deletes around long-lived keys are merged, not kept one per survivor', () => {
    // Kernel retention: ended orders leave, one in 500 rests for good. Plain dropping only removes empty generations.
    const map = new GenerationalMap<number, number>(null, { generationSizeMin: 64, generationsTarget: 4 })
    const reference = new Map<number, number>()
    let generationsMax = 0
    for (let index = 0; index < 200_000; index++) {
      for (const target of [map, reference]) {
        target.set(index, index)
        if (index >= 1_000 && (index - 1_000) % 500 !== 0) target.delete(index - 1_000)
      }
      generationsMax = Math.max(generationsMax, map.generations.length)
    }
    expect(map.size).toBe(reference.size)
    expect([...map]).toEqual([...reference])
    // 400 resting keys spread over the whole run: without merging they would hold ~400 generations open.
    expect(generationsMax).toBeLessThanOrEqual(2 * 4 + 2)
  })

  test('changes made during an iteration are seen as a Map iterator sees them (seeded)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(keyArb, fc.integer()), { maxLength: 30 }), fc.array(opArb, { maxLength: 60 }), (initial, during) => {
        const actual = new GenerationalMap<string, number>(initial, tiny)
        const expected = new Map<string, number>(initial)
        const seen = (map: Map<string, number>): [string, number][] => {
          const out: [string, number][] = []
          let step = 0
          for (const entry of map) {
            out.push(entry)
            const op = during[step++]
            if (op !== undefined) run(map, op)
            if (out.length > 200) break
          }
          return out
        }
        expect(seen(actual)).toEqual(seen(expected))
        expectSame(actual, expected)
        expect(actual.iterationsActive).toBe(0)
      }),
      { numRuns: 1_000, seed: 7 },
    )
  })

  test('after a clear during an iteration, the iteration sees only keys set since, as with Map.clear', () => {
    const walk = (map: Map<string, number>): string[] => {
      const seen: string[] = []
      for (const [key] of map) {
        seen.push(key)
        if (key === 'b') {
          map.clear()
          map.set('x', 9)
        }
      }
      return seen
    }
    const entries: [string, number][] = [['a', 1], ['b', 2], ['c', 3], ['d', 4], ['e', 5]]
    const map = new GenerationalMap<string, number>(entries, tiny)
    expect(walk(map)).toEqual(walk(new Map(entries)))
    expect(walk(new Map(entries))).toEqual(['a', 'b', 'x'])
    expect([...map]).toEqual([['x', 9]])
  })

  test('copies: from a GenerationalMap generation by generation, from a Map and from pairs with repeated keys as a Map would', () => {
    const source = new GenerationalMap<string, number>(null, tiny)
    for (let index = 0; index < 9; index++) source.set(`k${index}`, index)
    source.delete('k4')
    const copy = new GenerationalMap(source, tiny)
    expect([...copy]).toEqual([...source])
    expect(copy.generations.map((generation) => generation.size)).toEqual(source.generations.filter((generation) => generation.size > 0).map((generation) => generation.size))
    copy.set('k0', 99)
    expect(source.get('k0')).toBe(0)
    expect([...new GenerationalMap(new Map([['x', 1], ['y', 2]]), tiny)]).toEqual([['x', 1], ['y', 2]])
    const pairs: [string, number][] = [['x', 1], ['y', 2], ['x', 3]]
    const fromPairs = new GenerationalMap(pairs, tiny)
    expect([...fromPairs]).toEqual([...new Map(pairs)])
    expect(fromPairs.size).toBe(2)
  })

  test('copyWith: each value copied, and the copy (its filters copied, not rebuilt) answers as a Map for any history, mid-merge and mid-rebuild included (seeded)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.array(opArb, { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (before, after, generationSizeMin) => {
        // One entry copied per write and one key per rebuild step: merges and held-filter rebuilds stay pending across the copy.
        const source = new GenerationalMap<string, number>(null, { generationSizeMin, generationsTarget: 2, mergeStepEntriesMin: 1, heldFilterStepKeys: 1 })
        const model = new Map<string, number>()
        for (const op of before) expect(run(source, op)).toEqual(run(model, op))
        const copy = source.copyWith((value) => value + 1)
        const copied = new Map([...model].map(([key, value]) => [key, value + 1]))
        expectSame(copy, copied)
        expect(copy.size).toBe(model.size)
        for (const op of after) expect(run(copy, op)).toEqual(run(copied, op))
        expectSame(copy, copied)
        expectSame(source, model)
      }),
      { numRuns: 2_000, seed: 20261125 },
    )
  })

  test('an undefined value or a bad option is refused (a programming error)', () => {
    const map = new GenerationalMap<string, number | undefined>()
    expect(() => map.set('a', undefined)).toThrow('may not be undefined')
    expect(map.size).toBe(0)
    expect(() => new GenerationalMap(null, { generationSizeMin: 0, generationsTarget: 4 })).toThrow('generationSizeMin must be a positive integer, got 0')
    expect(() => new GenerationalMap(null, { generationSizeMin: 4, generationsTarget: 1.5 })).toThrow('generationsTarget must be a positive integer, got 1.5')
  })

  test('encoders that write Maps write it as the Map of its entries (canonical JSON, the back office tagged JSON)', () => {
    const entries: [string, number][] = [['b', 2], ['a', 1], ['c', 3], ['d', 4]]
    const map = new GenerationalMap(entries, tiny)
    expect(isMapLike(map)).toBe(true)
    expect(isMapLike(new Map())).toBe(true)
    expect(isMapLike({ size: 0 })).toBe(false)
    expect(canonicalJson({ m: map })).toBe(canonicalJson({ m: new Map(entries) }))
    expect(encodeTagged({ m: map })).toBe(encodeTagged({ m: new Map(entries) }))
    expect(decodeTagged(encodeTagged({ m: map }))).toEqual({ m: new Map(entries) })
  })
})

test('an observer hears every change after it is made (the order list index follows state.orders so), and a copy has none', () => {
  const map = new GenerationalMap<string, number>(null, { generationSizeMin: 2, generationsTarget: 2 })
  map.set('a', 1)
  const heard: unknown[] = []
  map.observe({
    added: (key, value) => heard.push(['added', key, value, map.get(key)]),
    replaced: (key, value, previous) => heard.push(['replaced', key, value, previous, map.get(key)]),
    deleted: (key, value) => heard.push(['deleted', key, value, map.has(key)]),
    cleared: () => heard.push(['cleared', map.size]),
  })
  for (const key of ['b', 'c', 'd', 'e']) map.set(key, key.charCodeAt(0))
  map.set('a', 10)
  expect(map.delete('b')).toBe(true)
  expect(map.delete('b')).toBe(false)
  map.set('b', 20)
  const copy = new GenerationalMap(map)
  copy.set('z', 0)
  copy.delete('a')
  map.clear()
  map.observe(null)
  map.set('after', 1)
  expect(heard).toEqual([
    ['added', 'b', 98, 98],
    ['added', 'c', 99, 99],
    ['added', 'd', 100, 100],
    ['added', 'e', 101, 101],
    ['replaced', 'a', 10, 1, 10],
    ['deleted', 'b', 98, false],
    ['added', 'b', 20, 20],
    ['cleared', 0],
  ])
})
