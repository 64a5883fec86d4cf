import { expect, test } from 'bun:test'
import { unslicedWork, WorkSlices } from '../../src/runtime/work-slices.ts'

function clockAt(startMs: number): { nowMs: () => number; advance: (ms: number) => void } {
  let nowMs = startMs
  return { nowMs: () => nowMs, advance: (ms) => void (nowMs += ms) }
}

test('a slice is spent once sliceMs has passed, looked at every itemsPerClockCheck items', async () => {
  const clock = clockAt(1_000)
  let pauses = 0
  const slices = new WorkSlices({ sliceMs: 2, itemsPerClockCheck: 4, nowMs: clock.nowMs, pause: async () => void pauses++ })
  clock.advance(5)
  // The clock is read on the 4th item only: the first three do not look, however long they took.
  expect([slices.spent(), slices.spent(), slices.spent()]).toEqual([false, false, false])
  expect(slices.spent()).toBe(true)
  await slices.rest()
  expect(pauses).toBe(1)
  // rest() started a new slice: 1 ms into it, four more items are not enough.
  clock.advance(1)
  expect([slices.spent(), slices.spent(), slices.spent(), slices.spent()]).toEqual([false, false, false, false])
  clock.advance(1)
  expect([slices.spent(), slices.spent(), slices.spent(), slices.spent()]).toEqual([false, false, false, true])
})

test('restarted() starts a new slice without pausing (after an await of something else)', () => {
  const clock = clockAt(0)
  let pauses = 0
  const slices = new WorkSlices({ sliceMs: 2, itemsPerClockCheck: 1, nowMs: clock.nowMs, pause: async () => void pauses++ })
  clock.advance(10)
  slices.restarted()
  expect(slices.spent()).toBe(false)
  expect(pauses).toBe(0)
})

test('unsliced work never asks for a pause', () => {
  const slices = unslicedWork()
  for (let item = 0; item < 100_000; item++) expect(slices.spent()).toBe(false)
})

test('bad options are refused', () => {
  const pause = async (): Promise<void> => undefined
  expect(() => new WorkSlices({ sliceMs: 0, pause })).toThrow('sliceMs must be > 0, got 0')
  expect(() => new WorkSlices({ sliceMs: Number.NaN, pause })).toThrow('sliceMs must be > 0')
  expect(() => new WorkSlices({ sliceMs: 1, pause, itemsPerClockCheck: 0 })).toThrow('itemsPerClockCheck must be a positive integer, got 0')
  expect(() => new WorkSlices({ sliceMs: 1, pause, itemsPerClockCheck: 1.5 })).toThrow('itemsPerClockCheck must be a positive integer')
})
