import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { heapStats } from 'bun:jsc'
import { SMALL_SET_SCAN_MAX, SmallSet } from '../../src/domain/small-set.ts'

describe('SmallSet', () => {
  test('answers as a Set does, in insertion order, below and above the size where it builds an index', () => {
    const operations = fc.array(fc.tuple(fc.constantFrom('add', 'has', 'copy'), fc.integer({ min: 0, max: 3 * SMALL_SET_SCAN_MAX })), { maxLength: 200 })
    fc.assert(
      fc.property(operations, (steps) => {
        let set = new SmallSet<string>()
        let reference = new Set<string>()
        for (const [operation, n] of steps) {
          const member = `x${n}`
          if (operation === 'add') expect(set.add(member)).toBe(set)
          if (operation === 'add') reference.add(member)
          if (operation === 'has') expect(set.has(member)).toBe(reference.has(member))
          if (operation === 'copy') {
            set = set.copy()
            reference = new Set(reference)
          }
          expect(set.size).toBe(reference.size)
        }
        expect([...set]).toEqual([...reference])
        for (let n = 0; n <= 3 * SMALL_SET_SCAN_MAX; n++) expect(set.has(`x${n}`)).toBe(reference.has(`x${n}`))
      }),
      { numRuns: 300, seed: 7 },
    )
  })

  test('a copy is independent: adding to it leaves the original as it was, on both sides of the index size', () => {
    for (const size of [2, SMALL_SET_SCAN_MAX + 5]) {
      const original = new SmallSet(Array.from({ length: size }, (_, index) => `id-${index}`))
      const copy = original.copy().add('late')
      expect(copy.has('late')).toBe(true)
      expect(original.has('late')).toBe(false)
      expect(original.size).toBe(size)
      expect(copy.size).toBe(size + 1)
    }
  })

  test('a copy holds the same members in the same order, and each grows without the other (past the Set index too)', () => {
    for (const count of [0, 2, 20]) {
      const set = new SmallSet(Array.from({ length: count }, (_, index) => `x${index}`))
      const copy = set.copy()
      expect(copy).toEqual(set)
      copy.add('new')
      set.add('other')
      expect(copy.has('other')).toBe(false)
      expect(set.has('new')).toBe(false)
      expect(copy.members).toEqual([...Array.from({ length: count }, (_, index) => `x${index}`), 'new'])
      expect(copy.has(`x${count - 1}`)).toBe(count > 0)
    }
  })

  test('the constructor drops repeats, and two sets with the same members in the same order are equal', () => {
    const set = new SmallSet(['a', 'b', 'a', 'c', 'b'])
    expect(set.members).toEqual(['a', 'b', 'c'])
    expect(new SmallSet(['a', 'b'])).toEqual(new SmallSet(['a', 'b']))
    expect(new SmallSet(['a', 'b'])).not.toEqual(new SmallSet(['a', 'c']))
  })

  test('a small set is one heap cell: its members are its own properties, not an array beside it', () => {
    const ids = Array.from({ length: 2000 }, (_, index) => `sim-x${index}`)
    const arrays = (): number => {
      Bun.gc(true)
      return (heapStats().objectTypeCounts as Record<string, number>)['Array'] ?? 0
    }
    const before = arrays()
    const sets: SmallSet<string>[] = []
    for (let index = 0; index < 1000; index++) sets.push(new SmallSet<string>().add(ids[2 * index] as string).add(ids[2 * index + 1] as string))
    // The one array holding the sets, and a little slack for whatever else the runtime made meanwhile.
    expect(arrays() - before).toBeLessThan(100)
    expect(sets[999]?.members).toEqual(['sim-x1998', 'sim-x1999'])
  })
})
