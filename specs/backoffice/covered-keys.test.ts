import { describe, expect, test } from 'bun:test'
import { CoveredKeys } from '../../src/backoffice/covered-keys.ts'

describe('CoveredKeys', () => {
  test('answers keys added one by one and keys held as a prefix with a set of suffixes, and nothing else', () => {
    const covered = new CoveredKeys()
    covered.add('venue_trades:sim:x-1')
    covered.addEach('venue_trades:sim:order:', new Set(['a', 'b']))
    expect(covered.has('venue_trades:sim:x-1')).toBe(true)
    expect(covered.has('venue_trades:sim:order:a')).toBe(true)
    expect(covered.has('venue_trades:sim:order:c')).toBe(false)
    expect(covered.has('venue_trades:jsonl:order:a')).toBe(false) // another venue's prefix
    expect(covered.has('venue_trades:sim:order:')).toBe(false)
    expect([...covered].sort()).toEqual(['venue_trades:sim:order:a', 'venue_trades:sim:order:b', 'venue_trades:sim:x-1'])
  })

  test('addAll covers the union; a key covered both ways is listed once', () => {
    const sim = new CoveredKeys()
    sim.addEach('venue_trades:sim:order:', new Set(['a']))
    sim.add('venue_trades:sim:order:a')
    const other = new CoveredKeys()
    other.addEach('venue_trades:fix:order:', new Set(['z']))
    const all = new CoveredKeys()
    all.addAll(sim)
    all.addAll(other)
    expect(all.has('venue_trades:fix:order:z') && all.has('venue_trades:sim:order:a')).toBe(true)
    expect([...all].sort()).toEqual(['venue_trades:fix:order:z', 'venue_trades:sim:order:a'])
  })
})
