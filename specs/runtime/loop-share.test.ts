import { expect, test } from 'bun:test'
import { loopSharePause } from '../../src/runtime/loop-share.ts'

function busy(ms: number): void {
  const endMs = performance.now() + ms
  while (performance.now() < endMs) {
    // a slice of background work
  }
}

async function timed(pause: () => Promise<void>): Promise<number> {
  const startMs = performance.now()
  await pause()
  return performance.now() - startMs
}

test('after a slice, the pause waits long enough that the duty holds at most shareMax of the loop', async () => {
  const pause = loopSharePause({ shareMax: 0.25, waitMsMax: 1_000 })
  busy(8)
  // 8 ms of work at a quarter of the loop: at least 24 ms for everything else (timers never fire early).
  expect(await timed(pause)).toBeGreaterThanOrEqual(23)
  // The next slice is measured from the end of that pause, not from the start.
  busy(4)
  expect(await timed(pause)).toBeGreaterThanOrEqual(11)
})

test('the wait after one slice is capped at waitMsMax', async () => {
  const pause = loopSharePause({ shareMax: 0.25, waitMsMax: 5 })
  busy(30)
  // Uncapped this would be 90 ms.
  expect(await timed(pause)).toBeLessThan(60)
})

test('a duty allowed the whole loop waits one event-loop turn: timers due now run before its next slice', async () => {
  const pause = loopSharePause({ shareMax: 1, waitMsMax: 1_000 })
  let timerRan = false
  setTimeout(() => (timerRan = true), 0)
  busy(3)
  await pause()
  await pause()
  expect(timerRan).toBe(true)
})

test('shareMax outside (0, 1] and a negative waitMsMax are refused', () => {
  expect(() => loopSharePause({ shareMax: 0, waitMsMax: 10 })).toThrow('shareMax must be in (0, 1], got 0')
  expect(() => loopSharePause({ shareMax: 1.5, waitMsMax: 10 })).toThrow('shareMax must be in (0, 1], got 1.5')
  expect(() => loopSharePause({ shareMax: 0.5, waitMsMax: -1 })).toThrow('waitMsMax must be ≥ 0, got -1')
})
