/**
 * bench:http's reading of JavaScriptCore's collector log (scripts/support/gc-log.ts): cycles per heap with their
 * summed pauses, and which slow requests were in flight during one. The lines are the collector's own, as serve
 * printed them under BUN_JSC_logGC=1 (shortened where the middle of a line does not matter).
 */

import { describe, expect, test } from 'bun:test'
import { GcLogReader, gcOverlap, isCollectorLine, slowTimeline, type GcCycle } from '../../scripts/support/gc-log.ts'

const MAIN = '0x4f6d7a28118'
const WORKER = '0x4f6dfc80118'
const EDEN_START = `[GC<${MAIN}>: START M 205640kb => EdenCollection, a=0kb hf=0.000 mu=0.600 v=0kb (C:0 M:0 P1:0) o=53 b=560 i#1:N<CsMsrShDMsm(582)SrbBcs> 27+582 p=1.083746ms (max 7.300378)...]`
const EDEN_STEP = `[GC<${MAIN}>: M a=108kb hf=0.002 mu=0.599 v=2111kb (C:763 M:0 P1:1348) o=55 b=141 0+141 p=0.901254ms (max 7.300378)...]`
const EDEN_END = `[GC<${MAIN}>: M a=1080kb hf=0.024 mu=0.586 v=8526kb o=58 b=24 i#7:P<WsJwOCsMsm(0)ShMsrSrbBcsDCbDomo>Pbc => 111946kb, p=3.255867ms (max 7.300378), cycle 17.146254ms END]`
const WORKER_ONE_LINE = `[GC<${WORKER}>: START M 23199kb => EdenCollection, a=0kb hf=0.000 mu=0.600 v=0kb o=7 b=115 i#1:N<CsMsrShDMsm(119)SrbBcs> 0+119 i#3:P<WsJwO>Pbc => 16695kb, p=1.642880ms (max 7.300378), cycle 1.604663ms END]`

function read(lines: [number, string][]): GcLogReader {
  const reader = new GcLogReader()
  for (const [atMs, line] of lines) reader.line(line, atMs)
  return reader
}

describe('GcLogReader', () => {
  test('a cycle spans its START and END lines and sums every pause between, per heap', () => {
    const reader = read([
      [100, EDEN_START],
      [101, WORKER_ONE_LINE],
      [102, EDEN_STEP],
      [103, 'GC END!'],
      [110, EDEN_END],
      [111, `[GC<${MAIN}>: epilogue 0.039298ms]`],
    ])
    expect(reader.cycles).toHaveLength(2)
    const [worker, main] = reader.cycles
    expect(worker).toMatchObject({ heap: WORKER, startMs: 101, endMs: 101, kind: 'eden', heapKb: 23199 })
    expect(worker?.pauseMs).toBeCloseTo(1.64288, 5)
    expect(main).toMatchObject({ heap: MAIN, startMs: 100, endMs: 110, kind: 'eden', heapKb: 205640 })
    expect(main?.pauseMs).toBeCloseTo(1.083746 + 0.901254 + 3.255867, 5)
    expect(reader.largestHeap()).toBe(MAIN)
  })

  test('lines before a cycle it saw start, and lines that are not the collector, are ignored', () => {
    const reader = read([
      [1, EDEN_STEP],
      [2, EDEN_END],
      [3, '2026-11-21T17:01:39.701Z listening on http://127.0.0.1:34835'],
    ])
    expect(reader.cycles).toEqual([])
    expect(reader.largestHeap()).toBeNull()
  })

  test('a full collection is told from an eden one', () => {
    const reader = read([[5, EDEN_START.replace('EdenCollection', 'FullCollection')], [9, EDEN_END]])
    expect(reader.cycles[0]?.kind).toBe('full')
  })
})

describe('gcOverlap', () => {
  const cycles = read([[100, EDEN_START], [110, EDEN_END], [500, WORKER_ONE_LINE]]).cycles

  test('counts the slow requests in flight during a cycle of the heap asked about, within the window', () => {
    const requests = [
      { sentMs: 95, answeredMs: 102 }, // slow, overlaps the cycle's start
      { sentMs: 108, answeredMs: 116 }, // slow, overlaps its end
      { sentMs: 200, answeredMs: 209 }, // slow, no cycle
      { sentMs: 104, answeredMs: 105 }, // inside the cycle, but fast
      { sentMs: 498, answeredMs: 506 }, // slow, during the worker's cycle only
    ]
    const overlap = gcOverlap(cycles, MAIN, requests, { fromMs: 0, toMs: 1000, slowMs: 5 })
    expect(overlap.cycles).toBe(1)
    expect(overlap.pauseMs).toBeCloseTo(1.083746 + 3.255867, 5)
    expect(overlap.slowCount).toBe(4)
    expect(overlap.slowInGcShare).toBe(0.5)
  })

  test('cycles outside the window are not counted, and no slow request gives a share of 0', () => {
    const overlap = gcOverlap(cycles, MAIN, [{ sentMs: 104, answeredMs: 105 }], { fromMs: 200, toMs: 1000, slowMs: 5 })
    expect(overlap).toEqual({ cycles: 0, pauseMs: 0, fullCycles: 0, cycleMs: 0, fullCycleMs: 0, liveKbAfterFull: null, slowInGcShare: 0, slowCount: 0 })
  })

  test('full cycles are counted apart, with how long cycles ran and the live heap the latest full one kept', () => {
    const full = EDEN_START.replace('EdenCollection', 'FullCollection')
    const fullEnd = EDEN_END.replace('=> 111946kb', '=> 90112kb')
    const reader = read([[100, EDEN_START], [110, EDEN_END], [300, full], [420, fullEnd]])
    expect(reader.cycles.map((cycle) => cycle.heapKbAfter)).toEqual([111946, 90112])
    const overlap = gcOverlap(reader.cycles, MAIN, [], { fromMs: 0, toMs: 1000, slowMs: 5 })
    expect(overlap).toMatchObject({ cycles: 2, fullCycles: 1, cycleMs: 130, fullCycleMs: 120, liveKbAfterFull: 90112 })
  })
})

describe('slowTimeline', () => {
  const cycle = (heap: string, kind: 'eden' | 'full', startMs: number, endMs: number): GcCycle => ({ heap, kind, startMs, endMs, pauseMs: 0, heapKb: 400 * 1024, heapKbAfter: 300 * 1024 })

  test('places the requests over 50 ms and names every cycle of any heap overlapping their span, and only those', () => {
    const requests = [
      { sentMs: 1_010, answeredMs: 1_012 },
      { sentMs: 1_400, answeredMs: 1_520 },
      { sentMs: 1_450, answeredMs: 1_600 },
      { sentMs: 2_000, answeredMs: 2_050 },
    ]
    const cycles = [cycle(MAIN, 'eden', 1_000, 1_030), cycle(MAIN, 'full', 1_380, 1_590), cycle(WORKER, 'eden', 1_590, 1_610), cycle(MAIN, 'eden', 1_700, 1_720)]
    expect(slowTimeline(requests, cycles, 1_000)).toBe(
      `requests over 50 ms: 2, sent 400–600 ms into the round; cycles overlapping: full ${MAIN} at 380 for 210 ms (400 MB); eden ${WORKER} at 590 for 20 ms (400 MB)`,
    )
  })

  test('a span no cycle overlaps says none; a round without such requests says so', () => {
    expect(slowTimeline([{ sentMs: 100, answeredMs: 300 }], [cycle(MAIN, 'full', 400, 500)], 0)).toBe('requests over 50 ms: 1, sent 100–300 ms into the round; cycles overlapping: none')
    expect(slowTimeline([{ sentMs: 100, answeredMs: 149 }], [], 0)).toBe('requests over 50 ms: none')
  })
})

test('isCollectorLine tells the collector\'s lines from a probe\'s and serve\'s own', () => {
  expect([EDEN_START, EDEN_STEP, EDEN_END, WORKER_ONE_LINE, 'GC END!'].map(isCollectorLine)).toEqual([true, true, true, true, true])
  expect(['event-loop-lag: mark at 24.30 s', '2026-11-24T05:30:03.684Z starting: config mode paper', ''].map(isCollectorLine)).toEqual([false, false, false])
})
