/**
 * Collector pacing (src/runtime/collector-pacing.ts): a young-generation collection at a tick only once enough records
 * were made durable since the last, its pause counted; nothing when idle or disabled; a lower log position (an HA node's
 * swapped gateway) counts again from there; a full collection only in a lull and only once the heap grew enough since
 * the last; stop ends the cadence. Driven by hand (ticks, a fake collector, heap and clock), plus one run of the real
 * bun:jsc collections.
 */

import { describe, expect, test } from 'bun:test'
import { heapSize } from 'bun:jsc'
import { CollectorPacer, heapUsedBytes, LULL_LOOK_EVERY_MS, PACED_LOOP_SHARE_MAX, type CollectorPacingDeps, type CollectorPacingSettings } from '../../src/runtime/collector-pacing.ts'

const NO_FULL = { fullWhenIdleMs: 0, fullAfterGrowthPct: 25 }

function pacerWith(settings: CollectorPacingSettings, startRecords = 0) {
  const world = {
    records: startRecords, activity: 0, busy: false, collections: 0, fulls: 0, nowMs: 0, pauseMs: 2, fullPauseMs: 200, heapBytes: 0, heapBytesAfterFull: 0,
    everyMs: [] as number[], ticks: [] as (() => void)[], cancelled: 0,
  }
  const deps: CollectorPacingDeps = {
    recordsNow: () => world.records,
    activityNow: () => world.activity,
    busy: () => world.busy,
    collect: () => {
      world.collections++
      world.nowMs += world.pauseMs
    },
    collectFull: () => {
      world.fulls++
      world.nowMs += world.fullPauseMs
      world.heapBytes = world.heapBytesAfterFull
    },
    heapBytes: () => world.heapBytes,
    nowMs: () => world.nowMs,
    repeat: (everyMs, tick) => {
      world.everyMs.push(everyMs)
      world.ticks.push(tick)
      return () => void world.cancelled++
    },
  }
  return { pacer: new CollectorPacer(settings, deps), world }
}

describe('collector pacing', () => {
  test('collects at a tick once edenAfterRecords records were made durable since the last, and counts each pause', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 500, ...NO_FULL }, 1_000)
    pacer.tick()
    expect(world.collections).toBe(0) // nothing durable since the start
    world.records += 499
    pacer.tick()
    expect(world.collections).toBe(0)
    world.records += 1
    pacer.tick()
    expect(world.collections).toBe(1)
    // Counted from the last collection: 400 more is not enough, 100 after that is.
    world.nowMs += 50
    world.records += 400
    pacer.tick()
    expect(world.collections).toBe(1)
    world.nowMs += 50
    world.pauseMs = 5
    world.records += 100
    pacer.tick()
    expect(world.collections).toBe(2)
    expect(pacer.stats).toEqual({ collections: 2, pauseMsTotal: 7, pauseMsMax: 5, pauseMsLast: 5, fullCollections: 0, fullPauseMsTotal: 0, fullPauseMsMax: 0 })
  })

  test('paced collections take at most PACED_LOOP_SHARE_MAX of the loop: after a long pause the next waits', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 1, ...NO_FULL })
    world.pauseMs = 300 // a call that waited on a cycle of the collector's own
    world.records = 1
    pacer.tick()
    expect(world.collections).toBe(1)
    // 300 ms at a share of 0.1: no paced collection until 3,000 ms after it began, however many records come.
    for (let index = 0; index < 53; index++) {
      world.nowMs += 50
      world.records += 10
      pacer.tick()
    }
    expect(world.nowMs).toBe(2_950)
    expect(world.collections).toBe(1)
    world.pauseMs = 2
    world.nowMs += 50
    pacer.tick()
    expect(world.collections).toBe(2)
    expect(PACED_LOOP_SHARE_MAX).toBe(0.1)
  })

  test('an idle gateway is left alone: ticks with no records collect nothing', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 1, ...NO_FULL })
    for (let index = 0; index < 100; index++) pacer.tick()
    expect(world.collections).toBe(0)
    expect(pacer.stats.collections).toBe(0)
  })

  test('a lower position (another log: an HA node swapped its gateway) is counted from, not waited past', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 100, ...NO_FULL }, 5_000)
    world.records = 10
    pacer.tick()
    expect(world.collections).toBe(0)
    world.records = 110
    pacer.tick()
    expect(world.collections).toBe(1)
  })

  test('a full collection runs only in a lull (fullWhenIdleMs without a record) and once the heap grew fullAfterGrowthPct since the last', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 1_000, fullWhenIdleMs: 1_000, fullAfterGrowthPct: 25 })
    world.heapBytes = 0
    world.nowMs = 5_000
    pacer.tick()
    expect(world.fulls).toBe(0) // no collection yet: nothing to measure growth from
    world.heapBytes = 100_000_000
    pacer.tick()
    expect(world.fulls).toBe(0) // the first reading is the base
    world.heapBytes = 200_000_000
    // Records still moving (fewer than edenAfterRecords: no young collection either): no lull, however long.
    for (let index = 0; index < 50; index++) {
      world.records += 10
      world.nowMs += 100
      pacer.tick()
    }
    expect([world.fulls, world.collections]).toEqual([0, 0])
    world.nowMs += 999
    pacer.tick()
    expect(world.fulls).toBe(0) // 999 ms without a record is not yet a lull
    world.nowMs += 1
    world.heapBytes = 124_999_999
    pacer.tick()
    expect(world.fulls).toBe(0) // a lull, but the heap grew under 25 %
    world.heapBytes = 125_000_000
    world.heapBytesAfterFull = 90_000_000
    pacer.tick()
    expect(world.fulls).toBe(1)
    expect(pacer.stats).toMatchObject({ fullCollections: 1, fullPauseMsTotal: 200, fullPauseMsMax: 200, collections: 0 })
    // Measured from what the full collection kept: the lull goes on, nothing more until it grows 25 % over 90 MB.
    world.heapBytes = 112_000_000
    world.nowMs += 5_000
    pacer.tick()
    expect(world.fulls).toBe(1)
    world.heapBytes = 112_500_000
    pacer.tick()
    expect(world.fulls).toBe(2)
  })

  test('a tick that runs a young collection runs no full one; fullWhenIdleMs 0 never runs one', () => {
    const lull = pacerWith({ edenEveryMs: 50, edenAfterRecords: 1, fullWhenIdleMs: 100, fullAfterGrowthPct: 1 })
    lull.world.heapBytes = 1_000
    lull.world.pauseMs = 50 // the next paced call waits 450 ms after this one ends
    lull.world.records = 1
    lull.pacer.tick()
    expect(lull.world.collections).toBe(1)
    lull.world.records = 2
    lull.world.nowMs = 60
    lull.pacer.tick() // due, but held back by the loop-share bound
    expect(lull.world.collections).toBe(1)
    // A lull by now (no record since 60 ms), the heap grown, and the young collection due: it runs, the full one not.
    lull.world.heapBytes = 1_000_000
    lull.world.nowMs = 600
    lull.pacer.tick()
    expect([lull.world.collections, lull.world.fulls]).toEqual([2, 0])
    lull.world.nowMs = 700
    lull.pacer.tick()
    expect([lull.world.collections, lull.world.fulls]).toEqual([2, 1])

    const never = pacerWith({ edenEveryMs: 50, edenAfterRecords: 1, ...NO_FULL })
    never.world.heapBytes = 1
    never.pacer.tick()
    never.world.heapBytes = 1_000_000_000
    never.world.nowMs += 3_600_000
    never.pacer.tick()
    expect(never.world.fulls).toBe(0)
  })

  test('a request begun ends a lull; nothing runs while busy; a drop in the heap (a full collection of the collector\'s own) is the new base', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 0, edenAfterRecords: 1, fullWhenIdleMs: 1_000, fullAfterGrowthPct: 25 })
    world.heapBytes = 100
    world.heapBytesAfterFull = 90
    pacer.tick() // the base: 100
    world.heapBytes = 200
    // Requests keep coming (reads write no record): never a lull.
    for (let index = 0; index < 30; index++) {
      world.activity++
      world.nowMs += 100
      pacer.tick()
    }
    expect(world.fulls).toBe(0)
    world.nowMs += 1_000
    world.busy = true // a snapshot being taken, or an HA node changing role
    pacer.tick()
    expect(world.fulls).toBe(0)
    world.busy = false
    pacer.tick()
    expect(world.fulls).toBe(1)
    // The collector's own full collection brings the figure down to 70: grown from there, not from 90.
    world.heapBytes = 70
    pacer.tick()
    world.heapBytes = 87
    pacer.tick()
    expect(world.fulls).toBe(1)
    world.heapBytes = 88
    pacer.tick()
    expect(world.fulls).toBe(2)
  })

  test('start runs the cadence once at edenEveryMs; stop cancels it; edenEveryMs 0 never starts one', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 50, edenAfterRecords: 1, ...NO_FULL })
    expect(pacer.enabled).toBe(true)
    pacer.start()
    pacer.start()
    expect(world.everyMs).toEqual([50])
    world.records = 1
    ;(world.ticks[0] as () => void)()
    expect(world.collections).toBe(1)
    pacer.stop()
    expect(world.cancelled).toBe(1)
    pacer.stop()
    expect(world.cancelled).toBe(1)

    const off = pacerWith({ edenEveryMs: 0, edenAfterRecords: 1, ...NO_FULL })
    expect(off.pacer.enabled).toBe(false)
    off.pacer.start()
    expect(off.world.ticks).toHaveLength(0)
  })

  test('lulls only (edenEveryMs 0): ticks every LULL_LOOK_EVERY_MS, runs full collections in lulls, never a young one', () => {
    const { pacer, world } = pacerWith({ edenEveryMs: 0, edenAfterRecords: 1, fullWhenIdleMs: 1_000, fullAfterGrowthPct: 25 })
    world.heapBytes = 100
    world.heapBytesAfterFull = 100
    expect(pacer.enabled).toBe(true)
    pacer.start()
    expect(world.everyMs).toEqual([LULL_LOOK_EVERY_MS])
    const tick = world.ticks[0] as () => void
    for (let index = 0; index < 20; index++) {
      world.records += 1_000
      world.nowMs += 100
      tick()
    }
    expect(world.collections).toBe(0)
    world.nowMs += 1_000
    tick() // a lull: nothing grown yet
    world.heapBytes = 130
    tick()
    expect([world.fulls, world.collections]).toEqual([1, 0])
  })

  test('the default collector and timer: a real eden collection runs and its pause is measured', async () => {
    let records = 0
    const pacer = new CollectorPacer({ edenEveryMs: 10, edenAfterRecords: 1, ...NO_FULL }, { recordsNow: () => records })
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

  test('the default heap reading is the collector\'s figure: bun:jsc heapSize after a collection, growing with what is kept', () => {
    Bun.gc(true)
    const before = heapUsedBytes()
    expect(before).toBe(heapSize())
    const keep = Array.from({ length: 100_000 }, (_, index) => ({ index, text: `kept-${index}` }))
    Bun.gc(true)
    expect(heapUsedBytes()).toBe(heapSize())
    expect(heapUsedBytes()).toBeGreaterThan(before + 100_000 * 16)
    expect(keep).toHaveLength(100_000)
  })

  test('the default heap reading and full collection: a lull after the heap grew runs a real full collection', async () => {
    const keep: object[] = []
    const pacer = new CollectorPacer({ edenEveryMs: 10, edenAfterRecords: 1_000_000, fullWhenIdleMs: 100, fullAfterGrowthPct: 1 }, { recordsNow: () => 0 })
    Bun.gc(true)
    await Bun.sleep(150)
    pacer.tick() // a lull already: the base, the heap after that collection
    expect(pacer.stats.fullCollections).toBe(0)
    for (let index = 0; index < 200_000; index++) keep.push({ index, text: `kept-${index}` })
    Bun.gc(false) // the collector's figure moves only with a collection
    pacer.start()
    try {
      const deadline = Date.now() + 5_000
      while (pacer.stats.fullCollections === 0 && Date.now() < deadline) await Bun.sleep(10)
    } finally {
      pacer.stop()
    }
    expect(keep).toHaveLength(200_000)
    expect(pacer.stats.fullCollections).toBe(1)
    expect(pacer.stats.fullPauseMsMax).toBeGreaterThan(0)
    expect(pacer.stats.collections).toBe(0)
  })
})
