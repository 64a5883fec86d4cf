/**
 * Collector pacing (src/runtime/collector-pacing.ts): a young-generation collection at a tick only once enough records
 * were made durable since the last, its pause counted; nothing when idle or disabled; a lower log position (an HA node's
 * swapped gateway) counts again from there; stop ends the cadence. Driven by hand (ticks, a fake collector and clock),
 * plus one run of the real bun:jsc collection.
 */

import { describe, expect, test } from 'bun:test'
import { CollectorPacer, type CollectorPacingDeps, type CollectorPacingSettings } from '../../src/runtime/collector-pacing.ts'

function pacerWith(settings: CollectorPacingSettings, startRecords = 0) {
  const world = { records: startRecords, collections: 0, nowMs: 0, pauseMs: 2, ticks: [] as (() => void)[], cancelled: 0 }
  const deps: CollectorPacingDeps = {
    recordsNow: () => world.records,
    collect: () => {
      world.collections++
      world.nowMs += world.pauseMs
    },
    nowMs: () => world.nowMs,
    repeat: (everyMs, tick) => {
      expect(everyMs).toBe(settings.edenEveryMs)
      world.ticks.push(tick)
      return () => void world.cancelled++
    },
  }
  return { pacer: new CollectorPacer(settings, deps), world }
}

describe('collector pacing', () => {
  test('collects at a tick once edenAfterRecords records were made durable since the last, and counts each pause', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 500 }, 1_000)
    pacer.tick()
    expect(world.collections).toBe(0) // nothing durable since the start
    world.records += 499
    pacer.tick()
    expect(world.collections).toBe(0)
    world.records += 1
    pacer.tick()
    expect(world.collections).toBe(1)
    // Counted from the last collection: 400 more is not enough, 100 after that is.
    world.records += 400
    pacer.tick()
    expect(world.collections).toBe(1)
    world.pauseMs = 5
    world.records += 100
    pacer.tick()
    expect(world.collections).toBe(2)
    expect(pacer.stats).toEqual({ collections: 2, pauseMsTotal: 7, pauseMsMax: 5, pauseMsLast: 5 })
  })

  test('an idle gateway is left alone: ticks with no records collect nothing', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 1 })
    for (let index = 0; index < 100; index++) pacer.tick()
    expect(world.collections).toBe(0)
    expect(pacer.stats.collections).toBe(0)
  })

  test('a lower position (another log: an HA node swapped its gateway) is counted from, not waited past', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 100 }, 5_000)
    world.records = 10
    pacer.tick()
    expect(world.collections).toBe(0)
    world.records = 110
    pacer.tick()
    expect(world.collections).toBe(1)
  })

  test('start runs the cadence once at edenEveryMs; stop cancels it; edenEveryMs 0 never starts one', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 1 })
    expect(pacer.enabled).toBe(true)
    pacer.start()
    pacer.start()
    expect(world.ticks).toHaveLength(1)
    world.records = 1
    ;(world.ticks[0] as () => void)()
    expect(world.collections).toBe(1)
    pacer.stop()
    expect(world.cancelled).toBe(1)
    pacer.stop()
    expect(world.cancelled).toBe(1)

    const off = pacerWith({ edenEveryMs: 0, edenAfterRecords: 1 })
    expect(off.pacer.enabled).toBe(false)
    off.pacer.start()
    expect(off.world.ticks).toHaveLength(0)
  })

  test('the default collector and timer: a real eden collection runs and its pause is measured', async () => {
    let records = 0
    const pacer = new CollectorPacer({ edenEveryMs: 10, edenAfterRecords: 1 }, { recordsNow: () => records })
    const garbage: object[] = []
    for (let index = 0; index < 10_000; index++) garbage.push({ index })
    records = 1
    pacer.start()
    try {
      const deadline = Date.now() + 2_000
      while (pacer.stats.collections === 0 && Date.now() < deadline) await Bun.sleep(5)
    } finally {
      pacer.stop()
    }
    expect(pacer.stats.collections).toBe(1)
    expect(pacer.stats.pauseMsLast).toBeGreaterThan(0)
    expect(pacer.stats.pauseMsMax).toBe(pacer.stats.pauseMsLast)
    // Stopped: no further tick collects, however many records come.
    records = 1_000
    await Bun.sleep(40)
    expect(pacer.stats.collections).toBe(1)
  })
})
