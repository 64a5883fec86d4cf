import { describe, expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'

const CLOCK_MODULE = resolve(import.meta.dir, '../../src/cli/stoppable-clock.ts')

/** Runs `lines` as a script in a child Bun, after a line that makes `clock`, a StoppableClock: what it printed and how it ended. */
async function runWithClock(lines: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const script = [`const { StoppableClock } = await import(${JSON.stringify(CLOCK_MODULE)})`, 'const clock = new StoppableClock()', ...lines].join('\n')
  const child = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { stdout, stderr, exitCode }
}

/** Resolves once every timer the clock holds has fired or been canceled (it polls the clock's bucket count). */
async function drained(clock: StoppableClock, boundMs = 2_000): Promise<void> {
  const deadline = performance.now() + boundMs
  while (clock.pendingBucketCount > 0) {
    if (performance.now() > deadline) throw new Error(`${clock.pendingBucketCount} buckets still pending after ${boundMs} ms`)
    await Bun.sleep(1)
  }
}

describe('StoppableClock: timers due in the same millisecond share one Timeout', () => {
  test('timers fire in the order of their due times, and in the order they were set within one', async () => {
    const clock = new StoppableClock()
    const fired: string[] = []
    clock.schedule(6, () => fired.push('6'))
    clock.after(1, (name: string) => fired.push(name), '1a')
    clock.schedule(3, () => fired.push('3'))
    clock.after(1, (name: string) => fired.push(name), '1b')
    clock.schedule(0, () => fired.push('0 counts as 1'))
    await drained(clock)
    expect(fired).toEqual(['1a', '1b', '0 counts as 1', '3', '6'])
  })

  test('a timer fires no sooner than 1 ms before its delay has passed', async () => {
    const clock = new StoppableClock()
    const lateness: number[] = []
    for (const delayMs of [1, 2, 4, 7]) {
      for (let repeat = 0; repeat < 5; repeat++) {
        const setAtMs = performance.now()
        clock.schedule(delayMs, () => lateness.push(performance.now() - setAtMs - delayMs))
        await Bun.sleep(0.3)
      }
    }
    await drained(clock)
    expect(lateness).toHaveLength(20)
    for (const ms of lateness) expect(ms).toBeGreaterThan(-1)
  })

  test('many timers set together are one bucket (one more per millisecond that turned meanwhile), and all fire', async () => {
    const clock = new StoppableClock()
    let count = 0
    const firstMs = Math.floor(performance.now())
    for (let index = 0; index < 200; index++) clock.after(3, () => count++, undefined)
    // One bucket per millisecond the loop spanned (a stall on a busy machine makes it more than one).
    expect(clock.pendingBucketCount).toBeLessThanOrEqual(Math.floor(performance.now()) - firstMs + 1)
    await drained(clock)
    expect(count).toBe(200)
  })

  test('what a bucket\'s callbacks queue runs after the last of them', async () => {
    const clock = new StoppableClock()
    const seen: string[] = []
    // Set in one synchronous stretch so they share a bucket; if a millisecond turned between them, try again.
    for (let attempt = 0; attempt < 20; attempt++) {
      seen.length = 0
      clock.after(2, () => {
        seen.push('first')
        queueMicrotask(() => seen.push('first\'s microtask'))
      }, undefined)
      clock.after(2, () => seen.push('second'), undefined)
      const shared = clock.pendingBucketCount === 1
      await drained(clock)
      if (shared) break
    }
    expect(seen).toEqual(['first', 'second', 'first\'s microtask'])
  })

  test('a canceled timer does not fire; a bucket left with nothing to fire is dropped', async () => {
    const clock = new StoppableClock()
    const fired: string[] = []
    // A and B set in one synchronous stretch share a bucket; if a millisecond turned between them, try again.
    for (let attempt = 0; attempt < 20; attempt++) {
      fired.length = 0
      const cancelA = clock.schedule(5, () => fired.push('a'))
      const cancelB = clock.schedule(5, () => fired.push('b'))
      if (clock.pendingBucketCount !== 1) {
        clock.cancelAll()
        continue
      }
      clock.schedule(8, () => fired.push('c'))
      const before = clock.pendingBucketCount
      cancelA()
      cancelA()
      expect(clock.pendingBucketCount).toBe(before)
      cancelB()
      expect(clock.pendingBucketCount).toBe(before - 1)
      await drained(clock)
      break
    }
    expect(fired).toEqual(['c'])
  })

  test('cancelAll lets go of every Timeout: a process whose timers are all canceled exits at once', async () => {
    const startedMs = performance.now()
    const { stdout, exitCode } = await runWithClock([
      "clock.schedule(60_000, () => console.log('a minute passed'))",
      "clock.schedule(60_000, () => console.log('a minute passed'))",
      "clock.after(30_000, () => console.log('half a minute passed'), undefined)",
      'clock.cancelAll()',
    ])
    expect(exitCode).toBe(0)
    expect(stdout).toBe('')
    expect(performance.now() - startedMs).toBeLessThan(15_000)
  })

  test('a callback that cancels a later timer of its own bucket keeps it from firing; a cancel after firing does nothing', async () => {
    const clock = new StoppableClock()
    const fired: string[] = []
    for (let attempt = 0; attempt < 20; attempt++) {
      fired.length = 0
      let cancelLater: () => void = () => {}
      const cancelFirst = clock.schedule(2, () => {
        fired.push('first')
        cancelLater()
      })
      cancelLater = clock.schedule(2, () => fired.push('later'))
      const shared = clock.pendingBucketCount === 1
      await drained(clock)
      cancelFirst()
      if (shared) break
    }
    expect(fired).toEqual(['first'])
  })

  test('cancelAll from a callback keeps the rest of its own bucket from firing', async () => {
    const clock = new StoppableClock()
    const fired: string[] = []
    for (let attempt = 0; attempt < 20; attempt++) {
      fired.length = 0
      clock.schedule(2, () => {
        fired.push('first')
        clock.cancelAll()
      })
      clock.after(2, (name: string) => fired.push(name), 'later')
      const shared = clock.pendingBucketCount === 1
      await Bun.sleep(10)
      if (shared) break
    }
    expect(fired).toEqual(['first'])
    expect(clock.pendingBucketCount).toBe(0)
  })

  test('cancelAll leaves nothing pending and nothing fires; the clock works on after it, timers set while one fires included', async () => {
    const clock = new StoppableClock()
    let fired = 0
    for (let index = 0; index < 10; index++) clock.schedule(index % 4, () => fired++)
    clock.after(3, () => fired++, undefined)
    clock.cancelAll()
    expect(clock.pendingBucketCount).toBe(0)
    // A sentinel due after every canceled timer: had any survived, it would have fired first.
    const seen: string[] = []
    await new Promise<void>((resolve) => {
      clock.schedule(5, () => {
        seen.push('sentinel')
        clock.schedule(0, () => seen.push('set while firing, 0 ms'))
        clock.schedule(1, () => {
          seen.push('set while firing, 1 ms')
          resolve()
        })
      })
    })
    expect(fired).toBe(0)
    expect(seen).toEqual(['sentinel', 'set while firing, 0 ms', 'set while firing, 1 ms'])
    expect(clock.pendingBucketCount).toBe(0)
  })

  test('a callback that throws: the rest of its bucket runs, and its error is uncaught as a Timeout\'s would be', async () => {
    const { stdout, stderr, exitCode } = await runWithClock([
      'for (let attempt = 0; attempt < 20; attempt++) {',
      "  clock.after(2, () => { throw new Error('the first timer failed') }, undefined)",
      "  clock.after(2, () => console.log('the second timer ran'), undefined)",
      '  if (clock.pendingBucketCount === 1) break',
      '  clock.cancelAll()',
      '}',
    ])
    expect(stdout).toContain('the second timer ran')
    expect(stderr).toContain('the first timer failed')
    expect(exitCode).not.toBe(0)
  })
})
