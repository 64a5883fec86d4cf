/**
 * A replay shares the event loop (src/http/sse/replay-turns.ts). It read the log as one stretch of microtasks until
 * it reached the end: an order stream resumed from `Last-Event-ID: 0` over a 4,756-record log held the loop for 175 ms,
 * with intake, the log's acknowledgements and every heartbeat waiting behind it, and any reader could start one.
 * Now a replay step is bounded in time as well as records, and steps wait for the loop's other work between them.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { SseHub } from '../../src/http/sse/index.ts'
import { ReplayTurns } from '../../src/http/sse/replay-turns.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { WORK_SLICE_DEFAULTS } from '../../src/runtime/work-slices.ts'
import type { Frame } from '../../wal/index.ts'
import { eventually, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
let firstOrderId: string

beforeAll(async () => {
  t = await startTestGateway()
  const trader = await t.token({ accounts: ['demo-1'] })
  for (let index = 0; index < 30; index++) {
    const res = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `turns-${index}` }))
    expect(res.status).toBe(202)
    if (index === 0) firstOrderId = ((await res.json()) as { order_id: string }).order_id
  }
  // Every order answered by the venue: the log holds all it will for them.
  await eventually(() => [...t.gateway.engine.state.orders.values()].every((order) => !['Validated', 'Enqueued', 'Sent'].includes(order.status)))
  await t.gateway.engine.settled()
})
afterAll(async () => t.stop())

/** Notes the LSNs of the frames read from the log (by the hub's replays: nothing else reads it meanwhile). */
function countingReads(): { lsnsRead: number[]; framesRead: () => number; restore: () => void } {
  const wal = t.gateway.engine.wal
  const read = wal.read
  const lsns: number[] = []
  wal.read = function* countedRead(this: typeof wal, ...args: Parameters<typeof read>): Generator<Frame> {
    for (const frame of read.apply(this, args)) {
      lsns.push(frame.lsn)
      yield frame
    }
  } as typeof read
  return { lsnsRead: lsns, framesRead: () => lsns.length, restore: () => void (wal.read = read) }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

test('a resumed order stream leaves the event loop to other work between replay steps, and still delivers every event of its order', async () => {
  const wal = t.gateway.engine.wal
  const endLsn = wal.lastLsn
  expect(endLsn).toBeGreaterThan(100)
  expect(wal.firstLsn).toBe(1)
  const wantLsns: number[] = []
  for (const { lsn } of t.http.services.logIndex.events(firstOrderId)) wantLsns.push(lsn)

  const reads = countingReads()
  const hub = new SseHub({ engine: t.gateway.engine, heartbeatMs: 3_600_000, bufferEventsMax: 1_024, subscribersMax: 4, replayChunkFrames: 16 })
  try {
    const opened = hub.open({ kind: 'order', orderId: firstOrderId }, 0)
    if (!opened.ok) throw new Error('not opened')
    // The next turn of the loop comes while the replay is still under way: it read a step, not the log.
    await nextTurn()
    expect(reads.framesRead()).toBe(16)
    const stream = new SseReader(new Response(opened.stream))
    await eventually(() => reads.framesRead() >= endLsn)
    // Every record read once, in order, none twice (the log may have grown meanwhile: the replay reads on to its end).
    expect(reads.lsnsRead).toEqual(Array.from({ length: reads.framesRead() }, (_, index) => index + 1))
    const frames = await stream.until((all) => all.filter((frame) => frame.id !== null).length >= wantLsns.length)
    expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual(wantLsns)
    await stream.cancel()
  } finally {
    reads.restore()
    hub.close()
  }
})

test('a replay step ends once its slice of time is used up, and the next step goes on from the record after it', async () => {
  const wal = t.gateway.engine.wal
  const domainLsns: number[] = []
  for (const frame of wal.read(1, { toLsn: wal.lastLsn })) if (domainEventOf(frame) !== null) domainLsns.push(frame.lsn)
  let nowMs = 0
  const reads = countingReads()
  // Each look at the clock finds a millisecond gone: with a 1 ms slice, a step ends at its first look, after
  // itemsPerClockCheck records (well short of replayChunkFrames).
  const hub = new SseHub({ engine: t.gateway.engine, heartbeatMs: 3_600_000, bufferEventsMax: 1_024, subscribersMax: 4, replaySliceMs: 1, nowMs: () => (nowMs += 1) })
  try {
    const opened = hub.open({ kind: 'global' }, 0)
    if (!opened.ok) throw new Error('not opened')
    await nextTurn()
    expect(reads.framesRead()).toBe(WORK_SLICE_DEFAULTS.itemsPerClockCheck)
    const stream = new SseReader(new Response(opened.stream))
    const frames = await stream.until((all) => all.filter((frame) => frame.id !== null).length >= domainLsns.length)
    await stream.cancel()
    expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id).slice(0, domainLsns.length)).toEqual(domainLsns)
    expect(reads.lsnsRead).toEqual(Array.from({ length: reads.framesRead() }, (_, index) => index + 1))
  } finally {
    reads.restore()
    hub.close()
  }
})

test('the turns run one step at a time, in the order taken, and a step that throws does not stop the next', async () => {
  const turns = new ReplayTurns({ shareMax: 1, waitMsMax: 0 })
  const ran: string[] = []
  const first = turns.take(() => void ran.push('a'))
  const failing = turns.take(() => {
    ran.push('b')
    throw new Error('step failed')
  })
  const third = turns.take(() => void ran.push('c'))
  expect(ran).toEqual([])
  await first
  expect(ran).toEqual(['a'])
  await expect(failing).rejects.toThrow('step failed')
  await third
  expect(ran).toEqual(['a', 'b', 'c'])
})
