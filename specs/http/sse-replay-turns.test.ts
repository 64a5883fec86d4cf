/**
 * A replay shares the event loop (src/http/sse/replay-turns.ts). It read the log as one stretch of microtasks until
 * it reached the end: an order stream resumed from `Last-Event-ID: 0` over a 4,756-record log held the loop for 175 ms,
 * with intake, the log's acknowledgements and every heartbeat waiting behind it, and any reader could start one.
 * Now a replay step is bounded in time as well as records, and steps wait for the loop's other work between them.
 *
 * Bounded per caller and in time too: the turns went to streams in one queue, so a caller with many streams
 * replaying took as many turns as it had streams; and a replay had no end but the log's, so one over a log written
 * faster than its share of the loop reads (a global stream decodes every record) chased it forever. Now the turns go
 * round the callers, and a replay still replaying after replayMsMax ends with `resync_required` (reason
 * `replay_too_long`) and goes live.
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

test('callers take turns one step each, however many steps one of them has waiting', async () => {
  const turns = new ReplayTurns({ shareMax: 1, waitMsMax: 0 })
  const ran: string[] = []
  // Like a replay: each chain takes its next step once its last has run, until it has taken `steps`.
  const chain = async (caller: string, steps: number): Promise<void> => {
    for (let step = 0; step < steps; step++) await turns.take(() => void ran.push(caller), caller)
  }
  await Promise.all([...['a1', 'a2', 'a3', 'a4'].map(() => chain('many', 10)), chain('one', 10)])
  // While both wait, they alternate: the lone stream's caller had every other turn, so its ten ran in the first twenty.
  expect(ran.slice(0, 20).filter((caller) => caller === 'one')).toHaveLength(10)
  expect(ran.filter((caller) => caller === 'many')).toHaveLength(40)
})

test('steps without a caller each take their own turn, in the order taken', async () => {
  const turns = new ReplayTurns({ shareMax: 1, waitMsMax: 0 })
  const ran: number[] = []
  await Promise.all([1, 2, 3].map((value) => turns.take(() => void ran.push(value))))
  expect(ran).toEqual([1, 2, 3])
})

test("a caller's many resumed streams do not slow another caller's one: turns are per caller", async () => {
  const wal = t.gateway.engine.wal
  const endLsn = wal.lastLsn
  let lastDomainLsn = 0
  for (const frame of wal.read(1, { toLsn: endLsn })) if (domainEventOf(frame) !== null) lastDomainLsn = frame.lsn
  const reads = countingReads()
  // Buffers that never fill: no replay waits for its client, each stays in the turns until it reaches the end.
  const hub = new SseHub({ engine: t.gateway.engine, heartbeatMs: 3_600_000, bufferEventsMax: 100_000, subscribersMax: 8, replayChunkFrames: 16 })
  try {
    for (let index = 0; index < 4; index++) if (!hub.open({ kind: 'global' }, 0, null, 'many').ok) throw new Error('not opened')
    const opened = hub.open({ kind: 'global' }, 0, null, 'one')
    if (!opened.ok) throw new Error('not opened')
    const stream = new SseReader(new Response(opened.stream))
    await stream.until((all) => all.some((frame) => (frame.id ?? 0) >= lastDomainLsn), 5_000)
    // By then the lone stream read the log once and the four others together about as much (one turn in two each);
    // with a turn per stream they would have read it four times.
    expect(reads.framesRead()).toBeLessThan(3 * endLsn)
    await stream.cancel()
  } finally {
    reads.restore()
    hub.close()
  }
})

test('a replay still replaying after replayMsMax ends with resync_required (replay_too_long) and goes live', async () => {
  const wal = t.gateway.engine.wal
  const endLsn = wal.lastLsn
  let nowMs = 0
  const reads = countingReads()
  const hub = new SseHub({ engine: t.gateway.engine, heartbeatMs: 3_600_000, bufferEventsMax: 100_000, subscribersMax: 4, replayChunkFrames: 16, replayMsMax: 60_000, nowMs: () => nowMs })
  try {
    const opened = hub.open({ kind: 'global' }, 0)
    if (!opened.ok) throw new Error('not opened')
    await nextTurn()
    expect(reads.framesRead()).toBe(16)
    // A minute later (the simulated clock) it is still far from the log's end.
    nowMs = 60_000
    const stream = new SseReader(new Response(opened.stream))
    const frames = await stream.until((all) => all.some((frame) => frame.event === 'resync_required'))
    const resync = frames.find((frame) => frame.event === 'resync_required')
    expect(resync?.id).toBe(endLsn)
    expect(resync?.data).toMatchObject({ reason: 'replay_too_long', replay_ms_max: 60_000, resume_lsn: endLsn, refetch: ['/v1/orders', '/health'] })
    expect((resync?.data as { last_event_id: number }).last_event_id).toBeLessThan(endLsn)
    // It read no further, and it is live: the next durable event reaches it.
    expect(reads.framesRead()).toBeLessThan(endLsn)
    const trader = await t.token({ accounts: ['demo-1'] })
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'bounds-live' }))).status).toBe(202)
    const live = await stream.until((all) => all.some((frame) => (frame.id ?? 0) > endLsn))
    expect(live.filter((frame) => (frame.id ?? 0) > endLsn).map((frame) => frame.event)).toContain('order.accepted')
    await stream.cancel()
  } finally {
    reads.restore()
    hub.close()
  }
})

test('a replay bound that is not a positive duration is refused when the hub is made', () => {
  for (const replayMsMax of [0, -1, Number.NaN]) {
    expect(() => new SseHub({ engine: t.gateway.engine, heartbeatMs: 3_600_000, bufferEventsMax: 16, subscribersMax: 1, replayMsMax })).toThrow(RangeError)
  }
})
