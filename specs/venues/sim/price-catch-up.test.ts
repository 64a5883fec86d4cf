/**
 * The sim's price walk is caught up lazily at each read (src/venues/sim/prices.ts), at most CATCH_UP_STEPS_MAX steps at
 * a time: a read after a long gap walked every step since on the event loop (a clock stepped 50 days forward held it
 * ~10 s: a paper gateway's first read after an idle weekend, or a leaked test venue when a spec set the system time
 * forward). Within the bound the walk is unchanged, still a function of seed, symbol and time.
 */

import { expect, test } from 'bun:test'
import { CATCH_UP_STEPS_MAX } from '../../../src/venues/sim/prices.ts'
import { BTC, harness } from './fixture.ts'

const STEP_MS = 100
const DAY_MS = 86_400_000

test('a read 50 days on walks at most CATCH_UP_STEPS_MAX steps: it returns at once, a price on the tick grid', () => {
  const { clock, venue } = harness({ priceStepTicksMax: 2, priceStepMs: STEP_MS })
  const before = venue.referencePrice('BTC-USD')
  clock.advance(50 * DAY_MS)
  const started = performance.now()
  const after = venue.referencePrice('BTC-USD')
  expect(performance.now() - started).toBeLessThan(1_000)
  expect(after?.observedAtMs).toBeGreaterThan((before?.observedAtMs ?? 0) + 49 * DAY_MS)
  // On the tick grid, and at most two ticks a step over the steps walked.
  const moved = (after?.price ?? 0n) - (before?.price ?? 0n)
  expect((after?.price ?? 0n) % BTC.tick).toBe(0n)
  expect(moved < 0n ? -moved : moved).toBeLessThanOrEqual(2n * BigInt(CATCH_UP_STEPS_MAX) * BTC.tick)
})

test('within the bound the walk is what it was: the same path whoever looks and how often', () => {
  const often = harness({ priceStepTicksMax: 2, priceStepMs: STEP_MS })
  const once = harness({ priceStepTicksMax: 2, priceStepMs: STEP_MS })
  const span = (CATCH_UP_STEPS_MAX - 37) * STEP_MS
  for (let elapsed = 0; elapsed < span; elapsed += 37 * STEP_MS) {
    often.clock.advance(37 * STEP_MS)
    often.venue.referencePrice('BTC-USD')
  }
  once.clock.advance(often.clock.nowMs() - once.clock.nowMs())
  expect(once.venue.referencePrice('BTC-USD')).toEqual(often.venue.referencePrice('BTC-USD'))
})
