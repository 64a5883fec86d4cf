/**
 * A replay ended by `resync_required` goes live only with room in the buffer, as one that reads to the log's end
 * (specs/http/sse-replay-live-room). A replay running past replayMsMax (or overtaken by compaction) queued its
 * `resync_required` and went live whatever the buffer held: a replay that had stopped one place short of full filled it
 * with the control event, and the first live batch found `bufferEventsMax` events waiting and cut the stream off
 * (`slow_consumer`), though its client was only keeping the replay's pace. Now without room it waits as mid-replay
 * (its time counted again from the resync), and takes what was written meanwhile from the log once the client reads.
 */

import { expect, test } from 'bun:test'
import { SseHub } from '../../src/http/sse/index.ts'
import type { Frame } from '../../wal/index.ts'
import { eventually, LIMIT_BUY, post } from './fixture.ts'
import { answeredOrders } from './sse-answered-orders.ts'
import { SseReader } from './sse-client.ts'

const BUFFER_EVENTS_MAX = 8
const REPLAY_MS_MAX = 60_000

const orders = answeredOrders()
const { placeAnswered, eventsAfter } = orders

test('a replay that ends with resync_required one place short of a full buffer is not cut off by the first live batch', async () => {
  for (let index = 0; index < 3; index++) await placeAnswered(`resync-room-${index}`)
  const wal = orders.t.gateway.engine.wal
  const endLsn = wal.lastLsn
  const replayed = eventsAfter(0)
  // The first step's chunk ends on the event that leaves the buffer one place short of full, well before the log's end.
  const stepEvents = BUFFER_EVENTS_MAX - 1
  expect(replayed.length).toBeGreaterThan(stepEvents)
  const chunkFrames = replayed[stepEvents - 1] as number
  // The simulated clock: that first step's read ends a replayMsMax after the open, so the next step ends the replay.
  let nowMs = 0
  const read = wal.read
  wal.read = function* timedRead(this: typeof wal, ...args: Parameters<typeof read>): Generator<Frame> {
    yield* read.apply(this, args)
    nowMs = REPLAY_MS_MAX
  } as typeof read
  const hub = new SseHub({ engine: orders.t.gateway.engine, heartbeatMs: 3_600_000, bufferEventsMax: BUFFER_EVENTS_MAX, subscribersMax: 4, replayChunkFrames: chunkFrames, replayMsMax: REPLAY_MS_MAX, nowMs: () => nowMs })
  try {
    const opened = hub.open({ kind: 'global' }, 0)
    if (!opened.ok) throw new Error('not opened')
    await Bun.sleep(200) // both steps run (the second after the turns' pause); the client reads nothing yet
    wal.read = read
    await placeAnswered('resync-room-live') // its events are published with the resync in the buffer
    const want = [...replayed.slice(0, stepEvents), endLsn, ...eventsAfter(endLsn)]
    const stream = new SseReader(new Response(opened.stream))
    const frames = await stream.until((all) => all.some((frame) => frame.event === 'disconnect') || all.filter((frame) => frame.id !== null).length >= want.length, 3_000)
    await stream.cancel()
    expect(frames.find((frame) => frame.event === 'disconnect') ?? null).toBeNull()
    expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual(want)
    expect(frames.find((frame) => frame.id === endLsn)?.data).toMatchObject({ reason: 'replay_too_long', resume_lsn: endLsn })
  } finally {
    wal.read = read
    hub.close()
  }
})
