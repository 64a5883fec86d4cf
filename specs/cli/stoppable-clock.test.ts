import { describe, expect, test } from 'bun:test'
import { StoppableClock } from '../../src/cli/serve-gateway.ts'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('StoppableClock', () => {
  test('timers fire once each, a canceled one never, and cancel after firing or twice does nothing', async () => {
    const clock = new StoppableClock()
    const fired: string[] = []
    clock.schedule(5, () => fired.push('b'))
    clock.schedule(0, () => fired.push('a'))
    const cancelC = clock.schedule(1, () => fired.push('c'))
    const cancelD = clock.schedule(2, () => fired.push('d'))
    cancelC()
    cancelC()
    await sleep(20)
    expect(fired).toEqual(['a', 'd', 'b'])
    cancelD()
    clock.schedule(0, () => fired.push('e'))
    await sleep(10)
    expect(fired).toEqual(['a', 'd', 'b', 'e'])
  })

  test('after runs its callback with its argument, once, and cancelAll cancels it like any pending timer', async () => {
    const clock = new StoppableClock()
    const fired: string[] = []
    const note = (name: string): void => void fired.push(name)
    clock.after(0, note, 'a')
    clock.schedule(1, () => note('b'))
    clock.after(2, note, 'c')
    for (let waitedMs = 0; fired.length < 3 && waitedMs < 2_000; waitedMs += 5) await sleep(5)
    expect(fired).toEqual(['a', 'b', 'c'])
    clock.after(0, note, 'canceled')
    clock.schedule(0, () => note('canceled too'))
    clock.after(1, note, 'canceled as well')
    clock.cancelAll()
    await sleep(15)
    expect(fired).toEqual(['a', 'b', 'c'])
  })

  test('cancelAll cancels every pending timer, first, middle and last scheduled, and the clock still works after', async () => {
    const clock = new StoppableClock()
    const fired: number[] = []
    const cancels = Array.from({ length: 5 }, (_, index) => clock.schedule(index, () => fired.push(index)))
    cancels[2]?.()
    clock.cancelAll()
    cancels[0]?.()
    await sleep(15)
    expect(fired).toEqual([])
    clock.schedule(0, () => {
      fired.push(10)
      clock.schedule(0, () => fired.push(11))
    })
    // Two chained 0 ms timers on the wall clock: waited for (up to 2 s), not a fixed sleep a loaded CI machine outruns.
    for (let waitedMs = 0; fired.length < 2 && waitedMs < 2_000; waitedMs += 5) await sleep(5)
    expect(fired).toEqual([10, 11])
  })
})
