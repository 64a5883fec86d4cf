/**
 * The live feed of an HA leader under synchronous replication (`fail_closed`, `degrade_async`): only records at or
 * below the LSN the node may acknowledge are streamed (StreamBound: what the in-sync standbys hold durably; under
 * degrade_async while degraded, this log's durable end). Streamed once durable here, a place answered 503
 * REPLICATION_UNCONFIRMED (the standby gone) was already on every stream, and after a failover the new leader wrote
 * its own records at those LSNs: a client resuming with a streamed id skipped the new leader's, and read of an order
 * the new leader never had. Under `off` and on a single node there is no bound and no HeldBack (no work per event).
 *
 * A durable batch the bound does not cover yet waits here, in log order, and goes out when an acknowledgement (a
 * heartbeat's too) or a change of state moves the bound past it: once, in order, as one live batch. What waits is
 * bounded (`heldEventsMax`): past it the waiting events are dropped and read again from the log when the bound moves,
 * `chunkFrames` records per step, a step per event-loop turn, until the feed has caught up with the log's end. Records
 * compaction removed meanwhile are not read: the live streams get `resync_required` for them, as a replay does.
 *
 * `headLsn` is where the live feed stands: a stream opened live starts there, and a replay (Last-Event-ID) reads the
 * log up to it before it goes live. Every domain event at or below it has gone (or will never go) to the live feed;
 * every one above it will. The records a log held when the term began are streamed as before (its history); what the
 * term wrote, its bootstrap's records included (StreamBound.termStartLsn), is held back.
 */

import type { DomainEvent } from '../../domain/events/index.ts'
import type { Engine } from '../../runtime/engine.ts'
import { domainEventOf } from '../../runtime/records.ts'

/** What the streams may show (src/runtime/ha/sync.ts SyncReplication). */
export interface StreamBound {
  /** The highest LSN the node may show as acknowledged, given this log's durable end `localLsn`. */
  acknowledgeableLsn(localLsn: number): number
  /** Calls `listener` whenever acknowledgeableLsn may have moved; returns its removal. */
  onAcknowledgeableMoved(listener: () => void): () => void
  /**
   * The log's end when this term's replication began, before its bootstrap wrote (read-back answers, orphan reports):
   * the feed holds back what was written from there on; absent, from the log's end when the feed is made.
   */
  readonly termStartLsn?: number
}

type Batch = { event: DomainEvent; lsn: number }[]

/** Durable events waiting for the bound, at most (then they are read again from the log). */
export const HELD_EVENTS_MAX_DEFAULT = 4_096

export interface HeldBackOptions {
  engine: Engine
  bound: StreamBound
  heldEventsMax: number
  /** Records read from the log per step once the waiting events were dropped. */
  chunkFrames: number
  /** Hands a batch the bound covers to the live streams (the hub's publish). */
  publish: (events: Batch) => void
  /** Reading the log failed: the live streams cannot be told what they miss (the hub ends them; the next step reads again). */
  readFailed: () => void
  /**
   * Compaction removed the records after where the feed stood up to `toLsn` before it read them: the live streams are
   * told (the hub's resync_required), and the feed goes on after `toLsn`.
   */
  notRetained: (toLsn: number) => void
}

export class HeldBack {
  private readonly options: HeldBackOptions
  /** Every domain event at or below it was handed to the live feed (or, read from the log, passed). */
  private shownLsn: number
  /** Durable events above shownLsn, in log order, not yet covered by the bound (while not fromLog). */
  private held: Batch = []
  /** The waiting events were more than heldEventsMax: those above shownLsn are read from the log. */
  private fromLog = false
  /** A log step is due on a later turn. */
  private stepDue: ReturnType<typeof setTimeout> | null = null
  private readonly stopWatching: () => void
  private closed = false

  constructor(options: HeldBackOptions) {
    if (!(options.heldEventsMax >= 1)) throw new RangeError(`heldEventsMax must be ≥ 1, got ${options.heldEventsMax}`)
    this.options = options
    // The term's records written before the service was made (its bootstrap's) wait like any other: read from the log
    // as the bound passes them. Shown at once, a leader that died before a standby held them left them on the streams,
    // and the next leader wrote its own records at those LSNs.
    const lastLsn = options.engine.wal.lastLsn
    this.shownLsn = Math.min(lastLsn, Math.max(options.bound.termStartLsn ?? lastLsn, options.engine.wal.firstLsn - 1))
    this.fromLog = this.shownLsn < lastLsn
    this.stopWatching = options.bound.onAcknowledgeableMoved(() => this.release())
    this.release()
  }

  /** Where the live feed stands (see the file's comment). */
  get headLsn(): number {
    if (this.fromLog) return this.shownLsn
    const first = this.held[0]
    if (first !== undefined) return first.lsn - 1
    return Math.max(this.shownLsn, this.boundNow())
  }

  /** A durable batch (engine.onDurable): what the bound covers goes out, the rest waits. */
  told(events: Batch): void {
    if (this.closed) return
    if (!this.fromLog) {
      const lastLsn = this.held.at(-1)?.lsn ?? this.shownLsn
      for (const applied of events) if (applied.lsn > lastLsn) this.held.push(applied)
      if (this.held.length > this.options.heldEventsMax) {
        // Past the bound of what waits: the log holds them, and is read again as the bound moves.
        this.shownLsn = (this.held[0] as Batch[number]).lsn - 1
        this.held = []
        this.fromLog = true
      }
    }
    this.release()
  }

  close(): void {
    this.closed = true
    this.stopWatching()
    if (this.stepDue !== null) clearTimeout(this.stepDue)
    this.stepDue = null
    this.held = []
  }

  private boundNow(): number {
    const localLsn = this.options.engine.wal.lastLsn
    return Math.min(localLsn, this.options.bound.acknowledgeableLsn(localLsn))
  }

  /** Hands over what the bound covers now: the waiting events up to it, or a step of the log. */
  private release(): void {
    if (this.closed) return
    if (this.fromLog) return this.logStep()
    const bound = this.boundNow()
    let count = 0
    while (count < this.held.length && (this.held[count] as Batch[number]).lsn <= bound) count++
    if (count === 0) return
    const batch = count === this.held.length ? this.held : this.held.slice(0, count)
    this.held = count === this.held.length ? [] : this.held.slice(count)
    this.shownLsn = (batch.at(-1) as Batch[number]).lsn
    this.options.publish(batch)
  }

  /** One step of the log from shownLsn towards the bound; the next on a later turn, until the log's end is reached. */
  private logStep(): void {
    if (this.stepDue !== null) return
    const wal = this.options.engine.wal
    const bound = this.boundNow()
    if (this.shownLsn + 1 < wal.firstLsn) {
      // Compaction removed what the feed had yet to read (the log's reader would start at its first LSN, and the gap go
      // unseen by every live stream): told once the bound has passed what was removed, then on from there.
      const cutLsn = wal.firstLsn - 1
      if (bound < cutLsn) return
      this.shownLsn = cutLsn
      this.options.notRetained(cutLsn)
    }
    const toLsn = Math.min(bound, this.shownLsn + this.options.chunkFrames)
    if (toLsn <= this.shownLsn) return
    const batch: Batch = []
    try {
      for (const frame of wal.read(this.shownLsn + 1, { toLsn })) {
        const event = domainEventOf(frame)
        if (event !== null) batch.push({ event, lsn: frame.lsn })
      }
    } catch {
      return this.options.readFailed()
    }
    this.shownLsn = toLsn
    // Caught up with the log: what is told from here on is above shownLsn (what was told up to it was read here).
    if (toLsn >= wal.lastLsn) this.fromLog = false
    if (batch.length > 0) this.options.publish(batch)
    if (this.fromLog && this.boundNow() > this.shownLsn) {
      this.stepDue = setTimeout(() => {
        this.stepDue = null
        this.release()
      }, 0)
    }
  }
}
