/**
 * probe:eden — what the orders a gateway keeps cost each young-generation (eden) collection of JavaScriptCore, at
 * rest. An eden collection should cost what was allocated since the previous one, not what the heap holds; a
 * structure that makes it walk every retained order (a WeakMap keyed by orders: the collector revisits a WeakMap's
 * entries in every collection; a large container written between collections) turns into a pause that grows for as
 * long as the gateway runs, since the hot state keeps an hour of ended orders by default.
 *
 * serve's gateway and HTTP app in-process (scripts/support/in-process-serve.ts: paper mode, sim venue, fsync log, the
 * bench's accounts and IOC orders, driven through `app.fetch`). The baseline is the same gateway fresh, before any
 * order: its eden pause is the collector's fixed cost here. Then orders are placed in steps (`--steps`, cumulative)
 * and, after each, with the executor and back office settled and a full collection done, the eden pause is timed
 * `SAMPLES` times (each after a little garbage) and its median kept. The ratio of the last step's median to the
 * baseline's tells whether retained orders slow young collections: about 1 when they do not.
 *
 * `bun scripts/probe-eden.ts [--steps 10000,20000,40000]`; the last line is JSON.
 */

import { parseArgs } from 'node:util'
import { edenGC, fullGC } from 'bun:jsc'
import { benchToken } from './support/bench-load.ts'
import { placeBenchOrders, startInProcessServe } from './support/in-process-serve.ts'

const CONCURRENCY = 64
const SAMPLES = 15
/** Short-lived objects allocated before each timed collection, so that it has an eden to collect. */
const GARBAGE_OBJECTS = 5_000
/** How long placing or settling may take before the probe gives up (a stuck gateway must not hang it). */
const WAIT_MS_MAX = 300_000

const round = (value: number, places = 2): number => Math.round(value * 10 ** places) / 10 ** places

/** Median and maximum of `SAMPLES` synchronous eden collections, in ms. */
function edenPauseMs(): { medianMs: number; maxMs: number } {
  const pausesMs: number[] = []
  for (let sample = 0; sample < SAMPLES; sample++) {
    let garbage: { index: number }[] | null = []
    for (let index = 0; index < GARBAGE_OBJECTS; index++) garbage.push({ index })
    garbage = null
    const startMs = performance.now()
    edenGC()
    pausesMs.push(performance.now() - startMs)
  }
  pausesMs.sort((a, b) => a - b)
  return { medianMs: round(pausesMs[SAMPLES >> 1] as number, 3), maxMs: round(pausesMs[SAMPLES - 1] as number, 3) }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { steps: { type: 'string', default: '10000,20000,40000' } } })
  const steps = values.steps.split(',').map(Number)
  if (steps.length === 0 || !steps.every((step) => Number.isSafeInteger(step) && step > 0) || steps.some((step, index) => index > 0 && step <= (steps[index - 1] as number))) {
    throw new RangeError('--steps must be increasing positive integers separated by commas')
  }
  const serve = await startInProcessServe('probe:eden')
  const { served } = serve
  try {
    const token = await benchToken()
    const deadlineMs = performance.now() + WAIT_MS_MAX
    const inTime = (what: string): void => {
      if (performance.now() > deadlineMs) throw new Error(`probe:eden: ${what} took longer than ${WAIT_MS_MAX} ms`)
    }
    let sequence = 0
    const settled = async (): Promise<void> => {
      while (served.gateway.engine.pending > 0 || served.gateway.executor['busy'].size > 0) {
        inTime('settling the executor')
        await Bun.sleep(5)
      }
      await Bun.sleep(300) // the back office's flush and fold timers
      fullGC()
    }
    await settled()
    const baseline = edenPauseMs()
    console.error(`probe:eden: fresh gateway: eden pause median ${baseline.medianMs} ms, max ${baseline.maxMs} ms`)
    const figures: { orders: number; kernelOrders: number; medianMs: number; maxMs: number }[] = []
    for (const target of steps) {
      sequence = await placeBenchOrders(serve, { token, firstIndex: sequence, count: target - sequence, keyPrefix: 'e', concurrency: CONCURRENCY, deadlineMs })
      await settled()
      const pause = edenPauseMs()
      figures.push({ orders: sequence, kernelOrders: served.gateway.engine.state.orders.size, ...pause })
      console.error(`probe:eden: ${sequence} orders placed (${served.gateway.engine.state.orders.size} held by the kernel): eden pause median ${pause.medianMs} ms, max ${pause.maxMs} ms`)
    }
    const last = figures.at(-1) as (typeof figures)[number]
    console.log(JSON.stringify({ probe: 'eden', baselineMedianMs: baseline.medianMs, steps: figures, lastOverBaseline: round(last.medianMs / baseline.medianMs) }))
  } finally {
    await serve.close()
  }
}

await main()
