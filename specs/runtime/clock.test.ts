import { describe, expect, test } from 'bun:test'
import { BEHIND_RATE, MonotonicNow, SimClock, WallClock } from '../../src/runtime/clock.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'

const START_MS = 1_700_000_000_000

describe('SimClock', () => {
  test('time starts at the given epoch and moves only when driven', () => {
    const clock = new SimClock({ startMs: START_MS })
    expect(clock.nowMs()).toBe(START_MS)
    expect(clock.advance(250)).toBe(0)
    expect(clock.nowMs()).toBe(START_MS + 250)
  })

  test('callbacks run ordered by due time, then by scheduling order, each seeing its due time as now', () => {
    const clock = new SimClock({ startMs: START_MS })
    const seen: string[] = []
    const note = (name: string) => () => seen.push(`${name}@${clock.nowMs() - START_MS}`)
    clock.schedule(30, note('c'))
    clock.schedule(10, note('a'))
    clock.schedule(10, note('b'))
    clock.schedule(0, note('zero'))
    expect(clock.advance(100)).toBe(4)
    expect(seen).toEqual(['zero@0', 'a@10', 'b@10', 'c@30'])
    expect(clock.nowMs()).toBe(START_MS + 100)
  })

  test('after: runs its callback with its argument, ordered with schedule\'s timers by due time then scheduling order', () => {
    const clock = new SimClock({ startMs: START_MS })
    const seen: string[] = []
    const note = (name: string): void => void seen.push(`${name}@${clock.nowMs() - START_MS}`)
    clock.after(10, note, 'a')
    clock.schedule(10, () => note('b'))
    clock.after(10, note, 'c')
    clock.after(5, note, 'first')
    expect(clock.pendingCount()).toBe(4)
    expect(clock.advance(100)).toBe(4)
    expect(seen).toEqual(['first@5', 'a@10', 'b@10', 'c@10'])
    expect(clock.pendingCount()).toBe(0)
  })

  test('callbacks scheduled by callbacks run in the same advance when they fall due inside it', () => {
    const clock = new SimClock({ startMs: START_MS })
    const seen: number[] = []
    clock.schedule(10, () => {
      seen.push(clock.nowMs() - START_MS)
      clock.schedule(10, () => seen.push(clock.nowMs() - START_MS))
      clock.schedule(500, () => seen.push(clock.nowMs() - START_MS))
    })
    clock.advance(100)
    expect(seen).toEqual([10, 20])
    expect(clock.nextDueMs()).toBe(START_MS + 510)
  })

  test('a canceled callback never runs and canceling twice or after running is harmless', () => {
    const clock = new SimClock({ startMs: START_MS })
    let ran = 0
    const cancelA = clock.schedule(10, () => ran++)
    const cancelB = clock.schedule(20, () => ran++)
    cancelA()
    cancelA()
    expect(clock.pendingCount()).toBe(1)
    expect(clock.nextDueMs()).toBe(START_MS + 20)
    clock.advance(50)
    cancelB()
    expect(ran).toBe(1)
    expect(clock.pendingCount()).toBe(0)
    expect(clock.nextDueMs()).toBeNull()
  })

  test('runUntilIdle jumps time to each callback and stops at the step limit', () => {
    const clock = new SimClock({ startMs: START_MS })
    const tick = (): void => {
      clock.schedule(1_000, tick)
    }
    clock.schedule(5, () => undefined)
    expect(clock.runUntilIdle(10)).toEqual({ steps: 1, idle: true })
    expect(clock.nowMs()).toBe(START_MS + 5)
    tick()
    expect(clock.runUntilIdle(3)).toEqual({ steps: 3, idle: false })
    expect(clock.nowMs()).toBe(START_MS + 3_005)
  })

  test('the queue is bounded: scheduling beyond queueMax throws', () => {
    const clock = new SimClock({ startMs: START_MS, queueMax: 3 })
    for (let index = 0; index < 3; index++) clock.schedule(index, () => undefined)
    expect(() => clock.schedule(1, () => undefined)).toThrow(/queueMax 3/)
    clock.advance(0)
    clock.schedule(1, () => undefined)
    expect(clock.pendingCount()).toBe(3)
  })

  test('canceled timers do not count against the bound and are compacted away', () => {
    const clock = new SimClock({ startMs: START_MS, queueMax: 2 })
    for (let index = 0; index < 5_000; index++) clock.schedule(1_000_000, () => undefined)()
    expect(clock.pendingCount()).toBe(0)
    expect(clock.nextDueMs()).toBeNull()
  })

  test('bad arguments are refused with a message naming what was expected', () => {
    expect(() => new SimClock({ startMs: -1 })).toThrow(/startMs/)
    const clock = new SimClock({ startMs: START_MS })
    expect(() => clock.advance(-1)).toThrow(/finite ms ≥ 0/)
    expect(() => clock.schedule(Number.NaN, () => undefined)).toThrow(/finite/)
    expect(() => clock.runUntilIdle(1.5)).toThrow(/limitSteps/)
  })

  test('advanceAsync lets promise continuations run at the simulated instant that resolved them', async () => {
    const clock = new SimClock({ startMs: START_MS })
    const seen: number[] = []
    const delay = (ms: number) => new Promise<void>((resolve) => clock.schedule(ms, resolve))
    void (async () => {
      await delay(10)
      seen.push(clock.nowMs() - START_MS)
      await delay(10)
      seen.push(clock.nowMs() - START_MS)
    })()
    await clock.advanceAsync(100)
    expect(seen).toEqual([10, 20])
  })

  test('runUntilIdleAsync drains chains of promise-driven timers', async () => {
    const clock = new SimClock({ startMs: START_MS })
    let count = 0
    const loop = async (): Promise<void> => {
      while (count < 5) {
        await new Promise<void>((resolve) => clock.schedule(7, resolve))
        count++
      }
    }
    void loop()
    const result = await clock.runUntilIdleAsync(100)
    expect(count).toBe(5)
    expect(result.idle).toBe(true)
    expect(clock.nowMs()).toBe(START_MS + 35)
  })
})

describe('SimClock driven from two places at once', () => {
  test('an advance that finishes after a longer one leaves time where the longer one put it (time never goes back)', async () => {
    const clock = new SimClock({ startMs: START_MS })
    const seen: number[] = []
    clock.schedule(5, () => seen.push(clock.nowMs() - START_MS))
    const short = clock.advanceAsync(10)
    const long = clock.advanceAsync(1_000)
    await Promise.all([short, long])
    expect(seen).toEqual([5])
    expect(clock.nowMs()).toBe(START_MS + 1_000)
  })
})

describe('WallClock', () => {
  test('reads real time and runs and cancels real timers', async () => {
    const clock = new WallClock()
    expect(Math.abs(clock.nowMs() - Date.now())).toBeLessThan(1_000)
    let canceledRan = false
    clock.schedule(1, () => {
      canceledRan = true
    })()
    await new Promise<void>((resolve) => clock.schedule(5, resolve))
    expect(canceledRan).toBe(false)
  })

  test('after runs its callback with its argument', async () => {
    const clock = new WallClock()
    const argument = await new Promise<string>((resolve) => clock.after(1, resolve, 'carried'))
    expect(argument).toBe('carried')
  })

  test('never goes backwards nor stands still: behind a stepped-back wall clock time runs at BEHIND_RATE until it catches up', () => {
    let wallMs = 1_767_225_600_000
    let elapsedMs = 0
    const now = new MonotonicNow({ wallMs: () => wallMs, elapsedMs: () => elapsedMs })
    expect(now.nowMs()).toBe(1_767_225_600_000)
    wallMs -= 5_000 // stepped back
    expect(now.nowMs()).toBe(1_767_225_600_000)
    elapsedMs += 2_000
    wallMs += 2_000
    expect(now.nowMs()).toBe(1_767_225_600_000 + 2_000 * BEHIND_RATE)
    // The gap closes at (1 − BEHIND_RATE) of real time: 5 s in 50 s, then the wall clock is followed again.
    elapsedMs += 48_000
    wallMs += 48_000
    expect(now.nowMs()).toBe(1_767_225_645_000)
    elapsedMs += 1_000
    wallMs += 1_000
    expect(now.nowMs()).toBe(1_767_225_646_000)
    wallMs += 60_000 // stepped forward: followed at once
    expect(now.nowMs()).toBe(1_767_225_706_000)
  })

  test('notBefore: a floor above the wall clock is the time now, and time runs on from it; a floor below changes nothing', () => {
    let wallMs = 1_767_225_600_000
    let elapsedMs = 0
    const now = new MonotonicNow({ wallMs: () => wallMs, elapsedMs: () => elapsedMs })
    now.notBefore(wallMs - 60_000)
    expect(now.nowMs()).toBe(wallMs)
    now.notBefore(wallMs + 3_600_000)
    expect(now.nowMs()).toBe(1_767_229_200_000)
    // Durations measured meanwhile run (a converge wait, a backoff): 30 s later it is 27 s later, not frozen.
    elapsedMs += 30_000
    wallMs += 30_000
    expect(now.nowMs()).toBe(1_767_229_200_000 + 30_000 * BEHIND_RATE)
    elapsedMs += 36_000_000
    wallMs += 36_000_000
    expect(now.nowMs()).toBe(wallMs)
  })

  test('the wall clocks (WallClock, serve\'s StoppableClock) take a floor and run on from it', () => {
    for (const clock of [new WallClock(), new StoppableClock()]) {
      const floorMs = Date.now() + 3_600_000
      clock.notBefore(floorMs)
      const first = clock.nowMs()
      expect(first).toBeGreaterThanOrEqual(floorMs)
      expect(first - floorMs).toBeLessThan(1_000)
      expect(clock.nowMs()).toBeGreaterThanOrEqual(first)
    }
  })
})
