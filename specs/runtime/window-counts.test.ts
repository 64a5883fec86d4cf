/**
 * The auto-stop breakers' sliding window (src/runtime/window-counts.ts), as README "Automatic stop" documents it: a
 * sample leaves the window between 19/20 and 20/20 of windowMs after it came, whatever windowMs is — a window that is
 * no multiple of 20 ms included (its slots were rounded up to whole milliseconds, and a sample stayed up to 19 ms past
 * windowMs).
 */

import { describe, expect, test } from 'bun:test'
import { WindowCounts } from '../../src/runtime/window-counts.ts'
import { T0 } from './harness.ts'

describe('WindowCounts', () => {
  test('a sample is gone once windowMs has passed, for a window that is no multiple of 20 ms', () => {
    const counts = new WindowCounts(1_010)
    // At the start of a slot, as the window cuts them (20 slots of 50.5 ms; they were 51 ms, 1,020 ms in all).
    const atMs = 1_010 * 51 * 1_000
    counts.add(atMs, true)
    expect(counts.all(atMs + 1_009)).toBe(1)
    expect(counts.all(atMs + 1_010)).toBe(0)
    expect(counts.hits(atMs + 1_010)).toBe(0)
  })

  test.each([1_000, 1_001, 1_010, 1_999, 60_000, 3_599_999])('windowMs %d: every sample younger than 19/20 of it is counted, none of windowMs or older', (windowMs) => {
    const counts = new WindowCounts(windowMs)
    const samples: { atMs: number; hit: boolean }[] = []
    let nowMs = T0
    let seed = windowMs
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed / 2_147_483_648
    }
    for (let step = 0; step < 2_000; step++) {
      nowMs += Math.floor(next() * (windowMs / 15))
      if (next() < 0.7) {
        const hit = next() < 0.4
        counts.add(nowMs, hit)
        samples.push({ atMs: nowMs, hit })
      }
      const all = counts.all(nowMs)
      const hits = counts.hits(nowMs)
      const surely = samples.filter((sample) => (nowMs - sample.atMs) * 20 < windowMs * 19)
      const possibly = samples.filter((sample) => nowMs - sample.atMs < windowMs)
      expect(all).toBeGreaterThanOrEqual(surely.length)
      expect(all).toBeLessThanOrEqual(possibly.length)
      expect(hits).toBeGreaterThanOrEqual(surely.filter((sample) => sample.hit).length)
      expect(hits).toBeLessThanOrEqual(possibly.filter((sample) => sample.hit).length)
    }
  })
})
