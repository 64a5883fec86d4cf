import { describe, expect, test } from 'bun:test'
import { GenerationalMap } from '../../src/domain/generational-map.ts'
import { KeyFilter, NO_HASH, keyHash } from '../../src/domain/key-filter.ts'

const keys = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, index) => `${prefix}-${index}`)

describe('key filter', () => {
  test('a key added is always "maybe"; keys never added are mostly "not here" at capacity', () => {
    const filter = new KeyFilter(4096)
    for (const key of keys('in', 4096)) filter.add(keyHash(key))
    expect(keys('in', 4096).every((key) => filter.mayHold(keyHash(key)))).toBe(true)
    const falseMaybes = keys('out', 20_000).filter((key) => filter.mayHold(keyHash(key))).length
    expect(falseMaybes / 20_000).toBeLessThan(0.03)
    expect(filter.saturated).toBe(false)
  })

  test('a key it cannot hash is "maybe" everywhere; an empty filter says "not here" to every string', () => {
    const filter = new KeyFilter(16)
    expect(keyHash(42)).toBe(NO_HASH)
    expect(filter.mayHold(keyHash(42))).toBe(true)
    expect(keys('any', 1000).some((key) => filter.mayHold(keyHash(key)))).toBe(false)
  })

  test('twice its capacity in adds saturates it', () => {
    const filter = new KeyFilter(10)
    for (const key of keys('k', 20)) filter.add(keyHash(key))
    expect(filter.saturated).toBe(false)
    filter.add(keyHash('one-more'))
    expect(filter.saturated).toBe(true)
  })

  test('a generational map whose youngest generation churns (keys set and deleted many times over) rebuilds its filter and answers as a Map', () => {
    const map = new GenerationalMap<string, number>(null, { generationSizeMin: 64, generationsTarget: 4 })
    const model = new Map<string, number>()
    for (const key of keys('old', 300)) (map.set(key, 1), model.set(key, 1))
    // 10 000 short-lived keys: the youngest generation never fills, so its filter takes far more than it was sized for.
    for (let index = 0; index < 10_000; index++) {
      const key = `short-${index}`
      map.set(key, index)
      model.set(key, index)
      if (index % 50 !== 0) (map.delete(key), model.delete(key))
    }
    for (const key of [...keys('old', 300), ...keys('short', 10_000), ...keys('never', 1000)]) {
      expect(map.get(key)).toBe(model.get(key))
      expect(map.has(key)).toBe(model.has(key))
    }
    expect([...map]).toEqual([...model])
    // Numbers have no hash: still found in any generation.
    const byNumber = new GenerationalMap<number, string>(null, { generationSizeMin: 4, generationsTarget: 2 })
    for (let index = 0; index < 100; index++) byNumber.set(index, `v${index}`)
    expect(byNumber.generations.length).toBeGreaterThan(2)
    for (let index = 0; index < 100; index++) expect(byNumber.get(index)).toBe(`v${index}`)
    expect(byNumber.has(100)).toBe(false)
  })
})
