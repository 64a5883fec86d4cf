/**
 * One SSE subscriber: a ReadableStream fed from the subscriber's own bounded queue, handed to the server a piece at a
 * time as it reads. Bun reads the stream only as fast as the socket drains (measured: a client that stops reading
 * backs the queue up after the kernel's socket buffers fill, Send-Q holding what Bun took), so the queue's length tells
 * how far behind the client is. When a batch of live events arrives while
 * `bufferEventsMax` events are still waiting, the subscriber is cut off with a final `disconnect` event saying why,
 * rather than buffering without bound. Room is judged once per batch: the hub hands a batch over in one call, before
 * any of it can reach the socket, so judging each event would cut off a client that keeps up whenever one batch
 * (a flatten canceling every open order of an account, a burst committed together) holds more events than the buffer.
 * The queue therefore holds at most `bufferEventsMax` events plus one batch, and the stream's opening pieces (`opened`),
 * and for a while after a replay went live, the fewer than `bufferEventsMax` events it left queued (`wentLive`).
 *
 * A stream cut off as `slow_consumer` keeps nothing but its final event: the queue is the subscriber's own, not the
 * stream's, so the cut drops what the client has yet to read, and the final event names the last event id it was
 * handed (where it resumes; handed none, the id it resumed after, never the log's end at the open). Queued in the stream itself (the stream's queue was the buffer), a cut stream held its
 * whole backlog for as long as the socket stayed open — until Bun's idle timeout closed a stalled one (measured: 258
 * events kept 30 s), its slot long since free for the next stream to fill: what stalled clients held was bounded by
 * the idle timeout, not by subscribersMax × bufferEventsMax. (The socket itself still lives until the client reads the
 * final event or the idle timeout closes it; what the kernel holds for it is bounded by its send buffer.)
 *
 * Life: `replaying` (reading the log from the resume point, at the client's pace), then `live` (fed by the hub from
 * durable events), then `closed`. Events at or below `lastLsn` are never sent again, which is what makes the switch
 * from log to live both gap-free and duplicate-free.
 */

import { sseComment, sseEvent } from './format.ts'

export type SubscriberPhase = 'replaying' | 'live' | 'closed'

/** `unauthenticated`: the token the stream was opened with expired, or its key is no longer trusted (hub.ts). */
export type DisconnectReason = 'slow_consumer' | 'shutdown' | 'client_closed' | 'log_unavailable' | 'unauthenticated'

export interface SubscriberOptions {
  bufferEventsMax: number
  /**
   * The event id the client resumes after (its Last-Event-ID; startLsn by default): what the final event names when
   * the stream is cut off before the client was handed an event.
   */
  resumedAfterLsn?: number
  /**
   * Whether the authority the stream is read with has ended (its token expired, its key left the key set: the hub's
   * StreamAuthority says `expired`, known without a check). Looked at before each piece is handed to the server: once
   * it has, the stream ends (`unauthenticated`) and nothing more is handed, whenever it was published.
   */
  authorityEnded?: () => boolean
  onClose: (subscriber: Subscriber, reason: DisconnectReason) => void
}

/**
 * The most bytes handed to the server in one read: queued pieces are joined up to it, so a client that keeps up takes
 * a burst in a few reads rather than one read per event. What the server has taken is past dropping (see the class).
 */
const READ_BYTES_MAX = 16 * 1024

/**
 * A queued piece of the stream and the resume point once the client has it (lastLsn when it was queued); null for a
 * piece without an id (`retry:`, a comment), which moves no resume point.
 */
interface Queued {
  bytes: Uint8Array
  resumeLsn: number | null
}

/** What a taken piece's place in the queue holds until the queue is compacted: nothing of the piece's bytes. */
const TAKEN: Queued = { bytes: new Uint8Array(0), resumeLsn: null }

export class Subscriber {
  readonly stream: ReadableStream<Uint8Array>
  phase: SubscriberPhase = 'replaying'
  /** The last LSN sent (or skipped as not matching); the resume point a client would name. */
  lastLsn: number
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null
  private readonly options: SubscriberOptions
  private roomWaiter: (() => void) | null = null
  /** What the server has yet to take, oldest first from `head` (the buffer bufferEventsMax bounds). */
  private queue: Queued[] = []
  private head = 0
  /** The server asked for more while the queue was empty: the next piece goes to it at once. */
  private pulled = false
  /** The resume point of the last piece the server took: where the client resumes when the rest is dropped. */
  private handedLsn: number
  /**
   * How many of the queue's first pieces take no room from the events that follow: the stream's opening pieces
   * (`opened`), and what a replay left queued as it went live (`wentLive`).
   */
  private roomFreeQueued = 0

  constructor(startLsn: number, options: SubscriberOptions) {
    this.lastLsn = startLsn
    this.handedLsn = options.resumedAfterLsn ?? startLsn
    this.options = options
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller
        },
        pull: () => this.pull(),
        cancel: () => this.close('client_closed'),
      },
      // Nothing waits in the stream itself: it asks (pull) when the server reads, and gets the queue's next piece.
      { highWaterMark: 0 },
    )
  }

  /** Events (and comments) the server has not taken yet (bounded as the class says). */
  get backlog(): number {
    return this.queue.length - this.head
  }

  get hasRoom(): boolean {
    return this.phase !== 'closed' && this.backlog - this.roomFreeQueued < this.options.bufferEventsMax
  }

  /**
   * What is queued so far opens the stream (the `retry:` line, the comment naming the log's end, a connect-time
   * `resync_required`): it takes no room from events until the server has taken it. Counted as events, the opening
   * pieces filled a small buffer (bufferEventsMax 3 or less) before the client could read once, and the first live
   * batch cut it off (`slow_consumer`) though it was not behind.
   */
  opened(): void {
    this.roomFreeQueued = this.backlog
  }

  /**
   * The replay has read to the live feed's head (with room, replay.ts): live from here, and what it queued and the client
   * has yet to take (up to bufferEventsMax - 1 events) takes no room from the live events. Counted as live events, they
   * left a client that read at the replay's pace one batch of room: the second live batch before its next read cut it
   * off (`slow_consumer`), though it kept up once live with a buffer to spare (specs/http/sse-replay-live-leftover).
   * The client takes them first; after that the whole buffer is the live events', as for a stream opened live.
   */
  wentLive(): void {
    this.phase = 'live'
    this.roomFreeQueued = this.backlog
  }

  /** Resolves when the client has drained below the buffer bound (or the subscriber closed). */
  waitForRoom(): Promise<void> {
    if (this.hasRoom || this.phase === 'closed') return Promise.resolve()
    return new Promise((resolve) => {
      this.roomWaiter = resolve
    })
  }

  /**
   * Sends one event, `bytes` as sseEvent made them (with `lsn` as id; shared with the other subscribers it goes to, and
   * never changed); `roomAtBatchStart` is whether the buffer had room when the event's batch arrived (hub.publish
   * reads `hasRoom` before the batch). Without it the subscriber is too far behind and is cut off. Returns false once
   * closed. A replay checks `hasRoom` before each event itself: it waits for the client and never overfills.
   */
  send(lsn: number, bytes: Uint8Array, roomAtBatchStart: boolean): boolean {
    if (this.phase === 'closed' || lsn <= this.lastLsn) return this.phase !== 'closed'
    if (!roomAtBatchStart) {
      this.close('slow_consumer')
      return false
    }
    this.lastLsn = lsn
    this.enqueue(bytes, lsn)
    return true
  }

  /** Marks `lsn` as passed without sending anything (an event this stream filters out). */
  skip(lsn: number): void {
    if (lsn > this.lastLsn) this.lastLsn = lsn
  }

  /** A control event (resync_required); carries `id` so a reconnecting client resumes after it. */
  control(type: string, data: unknown, id?: number): void {
    if (id !== undefined && id > this.lastLsn) this.lastLsn = id
    this.enqueue(sseEvent({ ...(id === undefined ? {} : { id }), event: type, data }), id === undefined ? null : this.lastLsn)
  }

  /**
   * The comment that keeps a quiet stream's connection open, only when nothing is queued: queued pieces mean the server
   * is waiting for the socket, which a comment behind them cannot reach sooner. Queued as the buffer had room, it took
   * a place from events: a replay gone live with room for one more lost it, and the first live batch cut it off.
   */
  heartbeat(): void {
    if (this.phase !== 'closed' && this.backlog === 0) this.enqueue(sseComment('heartbeat'), null)
  }

  /** Bytes without an event id (the opening `retry:` and comment). */
  raw(bytes: Uint8Array): void {
    this.enqueue(bytes, null)
  }

  /**
   * Ends the stream; unless the client itself went away, with a final `disconnect` event saying why. What the client
   * has yet to take is dropped (the log holds it), and the final event names the last event id it was handed: a client
   * cut off as `slow_consumer` is behind and may never read again; one whose token's authority ended may read no more
   * with it (`unauthenticated`); and after `log_unavailable` as after those, the final event comes next rather than
   * behind a queue that a client not reading held in the gateway until the idle timeout. Only `shutdown` hands the
   * client what is queued first.
   */
  close(reason: DisconnectReason): void {
    if (this.phase === 'closed') return
    this.phase = 'closed'
    // A client that went away reads nothing more: its queue goes too.
    const dropped = reason !== 'shutdown' && this.backlog > 0
    const resumeLsn = dropped ? this.handedLsn : this.lastLsn
    const queued = dropped ? [] : this.queue.slice(this.head)
    this.queue = []
    this.head = 0
    this.roomFreeQueued = 0
    try {
      for (const piece of queued) this.controller?.enqueue(piece.bytes)
      if (reason !== 'client_closed') {
        const data = { reason, last_event_id: resumeLsn, buffer_events_max: this.options.bufferEventsMax }
        this.controller?.enqueue(sseEvent({ event: 'disconnect', data }))
      }
      this.controller?.close()
    } catch {
      // Already closed or errored by the runtime (client gone): nothing left to flush.
    }
    const waiter = this.roomWaiter
    this.roomWaiter = null
    waiter?.()
    this.options.onClose(this, reason)
  }

  /** The server reads: the queue's next pieces (joined up to READ_BYTES_MAX), or the next one queued. */
  private pull(): void {
    if (this.endedByAuthority()) return
    if (this.backlog === 0) {
      this.pulled = true
      return
    }
    const pieces: Uint8Array[] = []
    let bytes = 0
    while (this.head < this.queue.length) {
      const next = this.queue[this.head] as Queued
      if (pieces.length > 0 && bytes + next.bytes.byteLength > READ_BYTES_MAX) break
      pieces.push(next.bytes)
      bytes += next.bytes.byteLength
      if (next.resumeLsn !== null) this.handedLsn = next.resumeLsn
      // Let go at once: a queue that never empties (a client behind by more than a read, a replay refilling it as it
      // reads) is compacted only every 1,024 pieces, and its taken pieces held their bytes till then.
      this.queue[this.head] = TAKEN
      this.head++
    }
    // The pieces that take no room are the queue's first: taken first.
    this.roomFreeQueued = Math.max(0, this.roomFreeQueued - pieces.length)
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head >= 1_024 && this.head * 2 >= this.queue.length) {
      // Taken places are let go in steps, so the queue's array follows what it holds.
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    this.hand(pieces.length === 1 ? (pieces[0] as Uint8Array) : joined(pieces, bytes))
    if (this.hasRoom) {
      const waiter = this.roomWaiter
      this.roomWaiter = null
      waiter?.()
    }
  }

  private enqueue(bytes: Uint8Array, resumeLsn: number | null): void {
    if (this.phase === 'closed') return
    if (this.pulled && this.backlog === 0) {
      if (this.options.authorityEnded?.() === true) {
        // An event is queued for the close to drop: its final event names the last piece handed, not this one (whose id
        // the stream has taken as sent already: named, a client resuming there would never get it). A piece without an
        // id (the heartbeat's comment) is not: the close names lastLsn, past the events filtered out since.
        if (resumeLsn !== null) this.queue.push({ bytes, resumeLsn })
        return this.close('unauthenticated')
      }
      this.pulled = false
      if (resumeLsn !== null) this.handedLsn = resumeLsn
      this.hand(bytes)
    } else {
      this.queue.push({ bytes, resumeLsn })
    }
  }

  /** The stream's authority has ended: it is closed (`unauthenticated`), and nothing more is handed (authorityEnded). */
  private endedByAuthority(): boolean {
    if (this.options.authorityEnded?.() !== true) return false
    this.close('unauthenticated')
    return true
  }

  private hand(bytes: Uint8Array): void {
    try {
      this.controller?.enqueue(bytes)
    } catch {
      // The stream was canceled under us (client disconnect races the cancel callback).
      if (this.phase !== 'closed') this.close('client_closed')
    }
  }
}

function joined(pieces: Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes)
  let offset = 0
  for (const piece of pieces) {
    out.set(piece, offset)
    offset += piece.byteLength
  }
  return out
}
