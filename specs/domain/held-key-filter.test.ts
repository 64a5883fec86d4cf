import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { GenerationalMap } from '../../src/domain/generational-map.ts'
import { HELD_FILTER_STEP_KEYS } from '../../src/domain/held-key-filter.ts'
import { KeyFilter } from '../../src/domain/key-filter.ts'

// The filter of held keys (held-key-filter.ts) lets a GenerationalMap answer "not here" without walking its older
// generations, and a set() after a lookup that missed reuses the lookup's hash. Both are fast paths: wrong, a held
// key would be answered missing, or set into a second generation. A plain Map is the reference.

/** The pool of keys; each step looks up CHECKED_PER_STEP of them (in turn) and the key it wrote. */
const KEYS = 256
const CHECKED_PER_STEP = 32
/** 20-character hex keys, as order ids are (sha256 prefixes), distinct for distinct indexes. */
const keyName = (index: number): string => {
  let mixed = Math.imul(index + 1, 0x9e3779b1)
  mixed = Math.imul(mixed ^ (mixed >>> 15), 0x85ebca6b)
  return `${(mixed >>> 0).toString(16).padStart(8, '0')}${index.toString(16).padStart(12, '0')}`
}

type Op =
  | { kind: 'set'; key: number; value: number }
  | { kind: 'delete'; key: number }
  | { kind: 'lookThenSet'; key: number; value: number; how: 'has' | 'get' }
  | { kind: 'clear' }
  | { kind: 'copy'; viaMap: boolean }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 40, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.nat(KEYS - 1), value: fc.integer() }) },
  { weight: 25, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(KEYS - 1) }) },
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('lookThenSet' as const), key: fc.nat(KEYS - 1), value: fc.integer(), how: fc.constantFrom('has' as const, 'get' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('copy' as const), viaMap: fc.boolean() }) },
)

describe('GenerationalMap: the filter of held keys and the remembered miss', () => {
  test('answers as a Map does at every step while the filter of held keys is rebuilt across merges, drops, clears and copies (seeded)', () => {
    const stats = { stepsRebuilding: 0, swapsWhileRebuilding: 0 }
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 100, maxLength: 500 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), (ops, generationSizeMin, generationsTarget) => {
        const options = { generationSizeMin, generationsTarget, mergeStepEntriesMin: 1, heldFilterStepKeys: 1 }
        let actual = new GenerationalMap<string, number>(null, options)
        const expected = new Map<string, number>()
        for (const [step, op] of ops.entries()) {
          const generationsBefore = [...actual.generations]
          const rebuildingBefore = actual.heldFilterRebuilding
          if (op.kind === 'set') {
            actual.set(keyName(op.key), op.value)
            expected.set(keyName(op.key), op.value)
          } else if (op.kind === 'delete') expect(actual.delete(keyName(op.key))).toBe(expected.delete(keyName(op.key)))
          else if (op.kind === 'lookThenSet') {
            // A lookup (remembered if it misses), then a set of the same key: a fresh string, as callers build it.
            const name = keyName(op.key)
            if (op.how === 'has') expect(actual.has(name)).toBe(expected.has(name))
            else expect(actual.get(name)).toBe(expected.get(name))
            actual.set(`${name.slice(0, 10)}${name.slice(10)}`, op.value)
            expected.set(name, op.value)
          } else if (op.kind === 'clear') {
            actual.clear()
            expected.clear()
          } else {
            actual = op.viaMap ? new GenerationalMap(new Map(actual), options) : new GenerationalMap(actual, options)
          }
          if (rebuildingBefore) stats.stepsRebuilding++
          const swapped = generationsBefore.some((generation) => !actual.generations.includes(generation))
          if (rebuildingBefore && actual.heldFilterRebuilding && swapped) stats.swapsWhileRebuilding++
          expect(actual.size).toBe(expected.size)
          const written = op.kind === 'clear' || op.kind === 'copy' ? 0 : op.key
          for (let checked = 0; checked <= CHECKED_PER_STEP; checked++) {
            const name = keyName(checked === CHECKED_PER_STEP ? written : (step * CHECKED_PER_STEP + checked) % KEYS)
            expect(actual.has(name)).toBe(expected.has(name))
            expect(actual.get(name)).toBe(expected.get(name))
          }
          // No key in two generations (a set that took a held key for new would put it in the youngest again).
          expect(actual.generations.reduce((total, generation) => total + generation.size, 0)).toBe(expected.size)
        }
        expect([...actual]).toEqual([...expected])
        for (let key = 0; key < KEYS; key++) expect(actual.get(keyName(key))).toBe(expected.get(keyName(key)))
      }),
      { numRuns: 300, seed: 20261145 },
    )
    // The scenarios reached what they are for: lookups while a fresh filter was built, and merges swapped in meanwhile.
    expect(stats.stepsRebuilding).toBeGreaterThan(10_000)
    expect(stats.swapsWhileRebuilding).toBeGreaterThan(300)
  }, 60_000)

  test('a lookup of a key the map does not hold asks one filter, not one per older generation', () => {
    const map = new GenerationalMap<string, number>(null, { generationSizeMin: 64, generationsTarget: 16 })
    for (let index = 0; index < 20_000; index++) map.set(`held-${index}`, index)
    expect(map.generations.length).toBeGreaterThan(16)
    const nativeMayHold = KeyFilter.prototype.mayHold
    let probes = 0
    let misses = 0
    KeyFilter.prototype.mayHold = function (this: KeyFilter, hash: number) {
      probes++
      return nativeMayHold.call(this, hash)
    }
    try {
      for (let index = 0; index < 1_000; index++) if (!map.has(`new-${index}`)) misses++
    } finally {
      KeyFilter.prototype.mayHold = nativeMayHold
    }
    expect(misses).toBe(1_000)
    // One probe each, and the few false "maybe"s (well under 5 %) walk the generations as before.
    expect(probes).toBeLessThan(1_000 * 2)
    for (let index = 0; index < 20_000; index += 97) expect(map.get(`held-${index}`)).toBe(index)
  })

  test('a set after a lookup that found the key nowhere hashes it once, not again', () => {
    const map = new GenerationalMap<string, number>(null, { generationSizeMin: 4, generationsTarget: 2 })
    for (let index = 0; index < 100; index++) map.set(`held-${index}`, index)
    expect(map.generations.length).toBeGreaterThan(2)
    const key = 'a1b2c3d4e5f60718293a'
    const nativeCharCodeAt = String.prototype.charCodeAt
    let reads = 0
    String.prototype.charCodeAt = function (this: string, index: number) {
      if (this === key) reads++
      return nativeCharCodeAt.call(this, index)
    }
    try {
      expect(map.has(key)).toBe(false)
      map.set(key, 1)
      expect(reads).toBe(key.length)
      reads = 0
      // Without a lookup before it, set() hashes once too (the walk's hash goes into the filters).
      map.set(`${key}-2`, 2)
    } finally {
      String.prototype.charCodeAt = nativeCharCodeAt
    }
    expect(map.get(key)).toBe(1)
  })

  test('a bad heldFilterStepKeys is refused (a programming error)', () => {
    expect(() => new GenerationalMap(null, { generationSizeMin: 4, generationsTarget: 4, heldFilterStepKeys: 0 })).toThrow('heldFilterStepKeys must be a positive integer, got 0')
  })

  test('a fresh filter is built a few keys per new key, and the map answers as a Map throughout', () => {
    const map = new GenerationalMap<string, number>(null, { generationSizeMin: 64, generationsTarget: 8 })
    const expected = new Map<string, number>()
    let rebuildWrites = 0
    for (let index = 0; index < 30_000; index++) {
      const name = keyName(index)
      map.set(name, index)
      expected.set(name, index)
      // Retention: all but one in 100 keys leave after 500 more arrived, so the filter fills with keys gone.
      if (index >= 500 && index % 100 !== 0) {
        map.delete(keyName(index - 500))
        expected.delete(keyName(index - 500))
      }
      if (map.heldFilterRebuilding) rebuildWrites++
    }
    // Rebuilt many times over (the held keys walked at HELD_FILTER_STEP_KEYS per new key), never at once.
    expect(rebuildWrites).toBeGreaterThan(Math.floor(expected.size / HELD_FILTER_STEP_KEYS))
    for (let index = 0; index < 30_000; index++) expect(map.has(keyName(index))).toBe(expected.has(keyName(index)))
    expect([...map]).toEqual([...expected])
  })
})
