/**
 * One SSE subscriber: a ReadableStream whose queue is the subscriber's bounded buffer. Bun pulls from the stream only
 * as fast as the socket drains (measured: a client that stops reading backs the queue up after the kernel's socket
 * buffers fill), so `desiredSize` tells how far behind the client is. When a batch of live events arrives while
 * `bufferEventsMax` events are still waiting, the subscriber is cut off with a final `disconnect` event saying why,
 * rather than buffering without bound. Room is judged once per batch: the hub hands a batch over in one call, before
 * any of it can reach the socket, so judging each event would cut off a client that keeps up whenever one batch
 * (a flatten canceling every open order of an account, a burst committed together) holds more events than the buffer.
 * The queue therefore holds at most `bufferEventsMax` events plus one batch.
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
  onClose: (subscriber: Subscriber, reason: DisconnectReason) => void
}

export class Subscriber {
  readonly stream: ReadableStream<Uint8Array>
  phase: SubscriberPhase = 'replaying'
  /** The last LSN sent (or skipped as not matching); the resume point a client would name. */
  lastLsn: number
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null
  private readonly options: SubscriberOptions
  private roomWaiter: (() => void) | null = null

  constructor(startLsn: number, options: SubscriberOptions) {
    this.lastLsn = startLsn
    this.options = options
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller
        },
        pull: () => {
          const waiter = this.roomWaiter
          this.roomWaiter = null
          waiter?.()
        },
        cancel: () => this.close('client_closed'),
      },
      { highWaterMark: options.bufferEventsMax, size: () => 1 },
    )
  }

  /** Events the client has not read yet (bounded by bufferEventsMax, plus one final event). */
  get backlog(): number {
    const desired = this.controller?.desiredSize ?? 0
    return this.options.bufferEventsMax - (desired ?? 0)
  }

  get hasRoom(): boolean {
    return (this.controller?.desiredSize ?? 0) > 0
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
    this.enqueue(bytes)
    return true
  }

  /** Marks `lsn` as passed without sending anything (an event this stream filters out). */
  skip(lsn: number): void {
    if (lsn > this.lastLsn) this.lastLsn = lsn
  }

  /** A control event (resync_required); carries `id` so a reconnecting client resumes after it. */
  control(type: string, data: unknown, id?: number): void {
    if (id !== undefined && id > this.lastLsn) this.lastLsn = id
    this.enqueue(sseEvent({ ...(id === undefined ? {} : { id }), event: type, data }))
  }

  heartbeat(): void {
    if (this.phase !== 'closed' && this.hasRoom) this.enqueue(sseComment('heartbeat'))
  }

  raw(bytes: Uint8Array): void {
    this.enqueue(bytes)
  }

  /** Ends the stream; unless the client itself went away, with a final `disconnect` event saying why. */
  close(reason: DisconnectReason): void {
    if (this.phase === 'closed') return
    this.phase = 'closed'
    if (reason !== 'client_closed') {
      this.enqueue(sseEvent({ event: 'disconnect', data: { reason, last_event_id: this.lastLsn, buffer_events_max: this.options.bufferEventsMax } }))
    }
    try {
      this.controller?.close()
    } catch {
      // Already closed or errored by the runtime (client gone): nothing left to flush.
    }
    const waiter = this.roomWaiter
    this.roomWaiter = null
    waiter?.()
    this.options.onClose(this, reason)
  }

  private enqueue(bytes: Uint8Array): void {
    try {
      this.controller?.enqueue(bytes)
    } catch {
      // The stream was canceled under us (client disconnect races the cancel callback).
      if (this.phase !== 'closed') this.close('client_closed')
    }
  }
}
