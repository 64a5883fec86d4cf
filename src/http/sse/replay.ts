/**
 * Replays: a stream resumed with `Last-Event-ID` reads the log from the event after it at its client's pace, in steps
 * bounded in records (`chunkFrames`) and time (`sliceMs`), taking turns on the event loop caller by caller
 * (replay-turns.ts), then goes live. An order or account stream passes other orders' records without decoding them
 * (replay-filter.ts). What the replay had yet to read being compacted away, or the replay running past `msMax`, ends
 * it with `resync_required` (the hub's `resyncData`) and the stream goes on live from the log's end.
 */

import type { Engine } from '../../runtime/engine.ts'
import { domainEventOf } from '../../runtime/records.ts'
import type { LoopShareOptions } from '../../runtime/loop-share.ts'
import { WorkSlices } from '../../runtime/work-slices.ts'
import { passedUndecoded } from './replay-filter.ts'
import { ReplayTurns } from './replay-turns.ts'
import { encodeEvent, matches, type StreamScope } from './stream-events.ts'
import type { Subscriber } from './subscriber.ts'

/**
 * How long a replay may run (from its open, waits for the client included): a minute reads millions of records at
 * the replays' share of the loop, far more than a client resuming after a dropped connection needs.
 */
export const REPLAY_MS_MAX_DEFAULT = 60_000

/** The stream a replay feeds (the hub's entry). */
export interface ReplayedStream {
  subscriber: Subscriber
  scope: StreamScope
  /** The caller whose turns its steps take, or null: a stream of its own. */
  owner: string | null
  /** When its replay began (nowMs), for msMax; restarted by a `resync_required` that left it waiting for room. */
  openedMs: number
}

export interface ReplaysOptions {
  engine: Engine
  /** Frames read per step, between checks that the client keeps up. */
  chunkFrames: number
  /** The longest one step holds the event loop (checked as it reads). */
  sliceMs: number
  /** The longest a replay may run before it ends with `resync_required` and goes live. */
  msMax: number
  /** The share of the event loop every replay together may hold (replay-turns.ts). */
  loopShare: LoopShareOptions
  nowMs: () => number
  /** Resolves once retired orders' accounts are known for the whole retained log (account streams wait for it). */
  retiredOrdersKnown: () => Promise<void>
  /** Where the live feed stands (the hub's headLsn): a replay reads up to it, then goes live. */
  headLsn: () => number
  /** A fresh order → account lookup (stream-events.ts accountLookup), one per replay. */
  accountLookup: () => (orderId: string) => string | null
  /** The `resync_required` event's data (the hub's). */
  resyncData: (scope: StreamScope, lastEventId: number, endLsn: number, replayTooLong: boolean) => unknown
}

export class Replays {
  private readonly options: ReplaysOptions
  /** Every replay's steps, one at a time, paced to the replays' share of the loop. */
  private readonly turns: ReplayTurns
  /** Bounds one replay step in time (restarted at each step). */
  private readonly slice: WorkSlices

  constructor(options: ReplaysOptions) {
    this.options = options
    this.turns = new ReplayTurns({ ...options.loopShare, nowMs: options.nowMs })
    // Steps are started by the turns, not paused by the slice: its pause is never awaited.
    this.slice = new WorkSlices({ sliceMs: options.sliceMs, pause: () => Promise.resolve(), nowMs: options.nowMs })
  }

  /**
   * Reads the log from the subscriber's resume point at the client's pace, a step per turn (replay-turns.ts), then
   * switches it to live.
   */
  async run(stream: ReplayedStream): Promise<void> {
    const { subscriber } = stream
    const accountOf = this.options.accountLookup()
    try {
      if (stream.scope.kind === 'account') await this.options.retiredOrdersKnown()
      while (subscriber.phase === 'replaying') {
        // A caller's streams share its turns (a stream without a named caller is one of its own).
        await this.turns.take(() => this.step(stream, accountOf), stream.owner ?? stream)
        await subscriber.waitForRoom()
      }
    } catch {
      subscriber.close('log_unavailable')
    }
  }

  /**
   * One turn of a replay: a chunk of the log, then live once it has read to the live feed's head (the hub's headLsn:
   * the log's end, or under synchronous replication what the node may acknowledge) with room left (all synchronous).
   */
  private step(stream: ReplayedStream, accountOf: (orderId: string) => string | null): void {
    const { subscriber } = stream
    if (subscriber.phase !== 'replaying') return
    const wal = this.options.engine.wal
    const endLsn = this.options.headLsn()
    if (subscriber.lastLsn + 1 < wal.firstLsn && subscriber.lastLsn < endLsn) {
      // Compaction removed what this replay had yet to read while it waited for the client: the log's reader
      // would start at its first LSN and the gap go unseen. Told as at connect, then live from here.
      subscriber.control('resync_required', this.options.resyncData(stream.scope, subscriber.lastLsn, endLsn, false), endLsn)
      this.resynced(stream)
      return
    }
    if (this.options.nowMs() - stream.openedMs >= this.options.msMax) {
      // Replaying for too long (a log written faster than this replay's share of the loop reads it, or a client that
      // reads slowly): the client re-fetches what it names and the stream goes on live from the log's end.
      subscriber.control('resync_required', this.options.resyncData(stream.scope, subscriber.lastLsn, endLsn, true), endLsn)
      this.resynced(stream)
      return
    }
    const toLsn = Math.min(endLsn, subscriber.lastLsn + this.options.chunkFrames)
    if (subscriber.lastLsn < toLsn && this.chunk(stream, toLsn, accountOf)) subscriber.skip(toLsn)
    // Synchronous with the read: the head has not moved since, so every later event reaches this subscriber through
    // the hub's publish(), and the ones publish() is still to hand over are at or below lastLsn (Subscriber.send skips them).
    // Live only with room: a replay fills the buffer to the brim while it waits for the client, and switched with it
    // full, the next live batch cut off (slow_consumer) a client only keeping the replay's pace. Without room it waits
    // as in the middle of a replay, and the next turn reads from the log what was written meanwhile.
    if (subscriber.phase === 'replaying' && subscriber.lastLsn >= this.options.headLsn() && subscriber.hasRoom) subscriber.wentLive()
  }

  /**
   * After `resync_required`: live from the log's end, only with room, as at the end of a replay (step). The control
   * event takes a place in the buffer, and a replay that had stopped one short of full went live full: the next live
   * batch cut off (slow_consumer) a client only keeping the replay's pace. Without room it waits as in the middle of a
   * replay, its time counted from here (the resync ended the replay it bounded), and the next turn reads from the log
   * what was written meanwhile.
   */
  private resynced(stream: ReplayedStream): void {
    stream.openedMs = this.options.nowMs()
    if (stream.subscriber.hasRoom) stream.subscriber.wentLive()
  }

  /**
   * Sends the matching events up to `toLsn` while the client has room and the step its slice of time; false when it
   * stopped early. A replay never
   * overfills the buffer: the bound is for clients that fall behind the live feed, while a replay waits for the
   * client, so it stops at a full buffer and goes on from the same LSN once the client has read.
   */
  private chunk(stream: ReplayedStream, toLsn: number, accountOf: (orderId: string) => string | null): boolean {
    const { subscriber } = stream
    const slice = this.slice
    slice.restarted()
    const { engine } = this.options
    for (const frame of engine.wal.read(subscriber.lastLsn + 1, { toLsn })) {
      // Another order's record, on an order or account stream, is passed without the cost of decoding it (replay-filter.ts).
      const event = passedUndecoded(engine, stream.scope, frame) ? null : domainEventOf(frame)
      if (event === null || !matches(engine, stream.scope, event, accountOf)) subscriber.skip(frame.lsn)
      else if (!subscriber.hasRoom || !subscriber.send(frame.lsn, encodeEvent(frame.lsn, event), true)) return false
      // Its slice used up: the step ends here (lastLsn is this frame's) and the next turn goes on after it.
      if (slice.spent()) return false
    }
    return true
  }
}
