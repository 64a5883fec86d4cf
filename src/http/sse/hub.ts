/**
 * The SSE hub: every stream (global, per account, per order) is a filter over the log's domain events, with the LSN
 * as the event id. A new subscriber starts live from the log's end, or — with `Last-Event-ID` — replays the log from
 * the event after that id at its own pace and then joins the live feed (see Subscriber for why nothing is missed or
 * repeated). A resume point the log no longer holds gets a `resync_required` event naming what to re-fetch. Replays
 * (replay.ts) read the log in steps bounded in records and time, taking turns on the event loop caller by caller
 * (replay-turns.ts); an order or account stream passes other orders' records without decoding them (replay-filter.ts).
 * A replay still replaying `replayMsMax` after it began ends the same way, with `resync_required` (reason
 * `replay_too_long`), and goes live: replays together hold at most half the loop, and one over a log written faster
 * than it can read (a global stream decodes every record) would otherwise chase the log's end for good.
 *
 * Live events come from `engine.onDurable` (only durable events are ever streamed); each is encoded once per batch,
 * and those bytes go to every subscriber it matches. Under synchronous replication (`bound`) only what the node may
 * acknowledge is streamed, live or replayed: the rest waits for the standby's acknowledgement (held-back.ts).
 * Heartbeat comments go out every `heartbeatMs` (to every stream with nothing queued: Subscriber.heartbeat), under the
 * server's idle timeout.
 *
 * A stream is read with the authority of the token it was opened with, and that authority ends: a stream whose token
 * has expired, or whose key was rotated out or went stale, ends with a final `disconnect` event, reason
 * `unauthenticated` — the client reconnects with a fresh token and resumes with Last-Event-ID. (Checked once at open,
 * a stream outlived its token for as long as the connection lasted.) At each heartbeat the hub looks at every
 * stream's `StreamAuthority`: an expired token ends its stream at once, with no verification (its exp was verified at
 * open), as does one whose key left the key set (nothing to verify it with); a token is verified again only when the key set changed since its last check, and at most
 * `authorityChecksPerHeartbeatMax` such checks start per heartbeat, the streams checked last going to the back.
 * (Before, every heartbeat verified every open stream's token: a cache hit normally, but with the token cache off up
 * to 1,024 signature checks in one event-loop turn every 5 s.)
 */

import type { DomainEvent } from '../../domain/events/index.ts'
import type { Engine } from '../../runtime/engine.ts'
import type { LoopShareOptions } from '../../runtime/loop-share.ts'
import { WORK_SLICE_DEFAULTS } from '../../runtime/work-slices.ts'
import { sseComment, sseRetry } from './format.ts'
import { HELD_EVENTS_MAX_DEFAULT, HeldBack, type StreamBound } from './held-back.ts'
import { REPLAY_MS_MAX_DEFAULT, Replays } from './replay.ts'
import { REPLAY_LOOP_SHARE } from './replay-turns.ts'
import { accountLookup, encodeEvent, matches, type StreamScope } from './stream-events.ts'
import { Subscriber, type DisconnectReason } from './subscriber.ts'

export interface SseHubOptions {
  engine: Engine
  heartbeatMs: number
  bufferEventsMax: number
  subscribersMax: number
  /**
   * Streams one caller (its token subject) may hold open at once: `subscribersMax` is shared by every client, and one
   * client reconnecting in a loop without closing its old streams would otherwise take every slot.
   */
  subscribersPerPrincipalMax?: number
  /** Frames read per step while replaying, between checks that the client keeps up. */
  replayChunkFrames?: number
  /** The longest one replay step holds the event loop (checked as it reads); replays take turns (replay-turns.ts). */
  replaySliceMs?: number
  /** The share of the event loop every replay together may hold (replay-turns.ts). */
  replayLoopShare?: LoopShareOptions
  /** The clock replay steps and replays are timed by (default performance.now). */
  nowMs?: () => number
  /** The longest a replay may run before it ends with `resync_required` and goes live (REPLAY_MS_MAX_DEFAULT). */
  replayMsMax?: number
  /** Client reconnect delay advertised with `retry:`. */
  retryMs?: number
  onSubscribersChanged?: (count: number, scope: StreamScope['kind']) => void
  onDisconnect?: (reason: DisconnectReason) => void
  /**
   * The account of an order the kernel no longer holds (retired: ended, beyond its bound), read from the log; null
   * when the log does not know it. A replay needs it: most order events name only their order, and a resume point
   * can lie before orders that have been retired since.
   */
  retiredOrderAccountOf?: (orderId: string) => string | null
  /** Resolves once `retiredOrderAccountOf` can answer for the whole retained log (the log index after a restart). */
  retiredOrdersKnown?: () => Promise<void>
  /**
   * Authority checks started per heartbeat (see authorityChecksPerHeartbeat for the value that keeps a key rotation's
   * bound); unbounded by default.
   */
  authorityChecksPerHeartbeatMax?: number
  /**
   * What the streams may show, under synchronous replication (held-back.ts); absent (a single node, `off`): what is
   * durable here, with no work per event.
   */
  bound?: StreamBound
  /** Durable events waiting for `bound` at most, before they are read again from the log (HELD_EVENTS_MAX_DEFAULT). */
  heldEventsMax?: number
}

/** Whether the caller that opened a stream may still read it (the verifier's TokenWatch for the stream's token). */
export interface StreamAuthority {
  /** `expired`: it may not, known without a check; `recheck`: `check` may answer differently now; `held`: nothing changed. */
  state(): 'held' | 'expired' | 'recheck'
  /** Resolves false once it may not (never rejects). */
  check(): Promise<boolean>
}

/**
 * Checks per heartbeat that re-verify every stream within `windowMs` of a key-set change (the JWKS reload interval):
 * `subscribersMax` spread over the heartbeats in the window, all at once when the window is shorter than a heartbeat.
 */
export function authorityChecksPerHeartbeat(options: { subscribersMax: number; heartbeatMs: number; windowMs: number }): number {
  const heartbeats = Math.max(1, Math.floor(options.windowMs / options.heartbeatMs))
  return Math.max(1, Math.ceil(options.subscribersMax / heartbeats))
}

export type OpenResult = { ok: true; stream: ReadableStream<Uint8Array> } | { ok: false; reason: 'too_many_subscribers' | 'too_many_subscribers_for_principal' | 'closed' }

interface Entry {
  subscriber: Subscriber
  scope: StreamScope
  authority: StreamAuthority | null
  /** A check of `authority` is under way (one at a time per stream, however slow the verifier). */
  checking: boolean
  /** Who opened it (subscribersPerPrincipalMax; its replay's turns are this caller's), or null when no caller is named. */
  owner: string | null
  /** When its replay began (nowMs), for replayMsMax. */
  openedMs: number
}

export class SseHub {
  private readonly options: Required<Omit<SseHubOptions, 'onSubscribersChanged' | 'onDisconnect' | 'bound'>> & Pick<SseHubOptions, 'onSubscribersChanged' | 'onDisconnect'>
  private readonly entries = new Set<Entry>()
  private readonly unsubscribe: () => void
  private readonly timer: ReturnType<typeof setInterval>
  private closed = false
  private readonly replays: Replays
  /** Under synchronous replication, the events waiting for the standby (held-back.ts); null without a bound. */
  private readonly heldBack: HeldBack | null

  constructor(options: SseHubOptions) {
    this.options = {
      replayChunkFrames: 512,
      replaySliceMs: WORK_SLICE_DEFAULTS.sliceMs,
      replayMsMax: REPLAY_MS_MAX_DEFAULT,
      replayLoopShare: REPLAY_LOOP_SHARE,
      nowMs: () => performance.now(),
      subscribersPerPrincipalMax: Number.POSITIVE_INFINITY,
      authorityChecksPerHeartbeatMax: Number.POSITIVE_INFINITY,
      retryMs: 1_000,
      retiredOrderAccountOf: () => null,
      retiredOrdersKnown: () => Promise.resolve(),
      heldEventsMax: HELD_EVENTS_MAX_DEFAULT,
      ...options,
    }
    if (!(this.options.replayMsMax > 0)) throw new RangeError(`replayMsMax must be > 0, got ${this.options.replayMsMax}`)
    this.replays = new Replays({
      engine: this.options.engine,
      chunkFrames: this.options.replayChunkFrames,
      sliceMs: this.options.replaySliceMs,
      msMax: this.options.replayMsMax,
      loopShare: this.options.replayLoopShare,
      nowMs: this.options.nowMs,
      retiredOrdersKnown: this.options.retiredOrdersKnown,
      headLsn: () => this.headLsn(),
      accountLookup: () => this.accountLookup(),
      resyncData: (scope, lastEventId, endLsn, replayTooLong) => this.resyncData(scope, lastEventId, endLsn, replayTooLong),
    })
    const { bound } = options
    this.heldBack =
      bound === undefined
        ? null
        : new HeldBack({
            engine: options.engine,
            bound,
            heldEventsMax: this.options.heldEventsMax,
            chunkFrames: this.options.replayChunkFrames,
            publish: (events) => this.publish(events),
            readFailed: () => this.endLive('log_unavailable'),
            notRetained: (toLsn) => this.resyncLive(toLsn),
          })
    const heldBack = this.heldBack
    this.unsubscribe = options.engine.onDurable(heldBack === null ? (events) => this.publish(events) : (events) => heldBack.told(events))
    this.timer = setInterval(() => this.heartbeat(), options.heartbeatMs)
    // The heartbeat must not keep a process alive that is otherwise done.
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  get subscribersPerPrincipalMax(): number {
    return this.options.subscribersPerPrincipalMax
  }

  /**
   * Where the live feed stands: the log's durable end, or under synchronous replication what the node may acknowledge
   * of it (held-back.ts). A stream opened live starts here; a replay reads up to here before it goes live.
   */
  headLsn(): number {
    return this.heldBack?.headLsn ?? this.options.engine.wal.lastLsn
  }

  get subscriberCount(): number {
    return this.entries.size
  }

  countOf(kind: StreamScope['kind']): number {
    let count = 0
    for (const entry of this.entries) if (entry.scope.kind === kind) count++
    return count
  }

  /** Streams open for `owner`. */
  countOpenedBy(owner: string): number {
    let count = 0
    for (const entry of this.entries) if (entry.owner === owner) count++
    return count
  }

  /**
   * Opens a stream for `scope`, resuming after `lastEventId` when given. `authority`, when given, is looked at every
   * heartbeat; the stream ends (`unauthenticated`) once it says no. `owner` (the caller) holds at most
   * subscribersPerPrincipalMax streams.
   */
  open(scope: StreamScope, lastEventId: number | null, authority: StreamAuthority | null = null, owner: string | null = null): OpenResult {
    if (this.closed || this.logClosed()) return { ok: false, reason: 'closed' }
    if (owner !== null && this.countOpenedBy(owner) >= this.options.subscribersPerPrincipalMax) return { ok: false, reason: 'too_many_subscribers_for_principal' }
    if (this.entries.size >= this.options.subscribersMax) return { ok: false, reason: 'too_many_subscribers' }
    const wal = this.options.engine.wal
    const endLsn = this.headLsn()
    const entry: Entry = {
      scope,
      authority,
      checking: false,
      owner,
      openedMs: this.options.nowMs(),
      subscriber: new Subscriber(endLsn, {
        bufferEventsMax: this.options.bufferEventsMax,
        // Cut off before it was handed an event, the client resumes where it asked to (not at the log's end).
        resumedAfterLsn: lastEventId ?? endLsn,
        // Nothing is handed once the token is known to be past its authority (expired, its key gone); the heartbeat
        // ends a stream not read meanwhile, and the checks that need the verifier.
        ...(authority === null ? {} : { authorityEnded: () => authority.state() === 'expired' }),
        onClose: (subscriber, reason) => this.remove(subscriber, reason),
      }),
    }
    this.entries.add(entry)
    this.options.onSubscribersChanged?.(this.countOf(scope.kind), scope.kind)
    const { subscriber } = entry
    subscriber.raw(sseRetry(this.options.retryMs))
    subscriber.raw(sseComment(`egress ${scope.kind} stream; log at ${endLsn}`))
    const resync = lastEventId !== null && (lastEventId + 1 < wal.firstLsn || lastEventId > endLsn)
    if (resync) subscriber.control('resync_required', this.resyncData(scope, lastEventId, endLsn), endLsn)
    // These pieces take no room from the events that follow (Subscriber.opened).
    subscriber.opened()
    if (lastEventId === null || resync) {
      subscriber.phase = 'live'
    } else {
      subscriber.lastLsn = lastEventId
      void this.replays.run(entry)
    }
    return { ok: true, stream: subscriber.stream }
  }

  /**
   * The engine's log has closed: its gateway stopped (an HA leader deposed, a standby's gateway closed for a takeover
   * or a re-sync) while this hub's HTTP service still answers, until the next gateway has started. Its streams would
   * never move again, so the next heartbeat ends them and no new one opens: a client resumes (Last-Event-ID) once a
   * gateway serves, rather than hold a stream of heartbeats it cannot tell from a live one.
   */
  private logClosed(): boolean {
    return this.options.engine.wal.isClosed
  }

  /** Ends every stream with a final event (shutdown) and stops following the engine. */
  close(reason: DisconnectReason = 'shutdown'): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    this.unsubscribe()
    this.heldBack?.close()
    for (const entry of [...this.entries]) entry.subscriber.close(reason)
  }

  private resyncData(scope: StreamScope, lastEventId: number, endLsn: number, replayTooLong = false): unknown {
    const wal = this.options.engine.wal
    const refetch =
      scope.kind === 'order'
        ? [`/v1/orders/${scope.orderId}`, `/v1/orders/${scope.orderId}/events`]
        : scope.kind === 'account'
          ? [`/v1/orders?account=${scope.accountId}`]
          : ['/v1/orders', '/health']
    const reason = replayTooLong ? 'replay_too_long' : lastEventId > endLsn ? 'resume_point_ahead_of_log' : 'resume_point_not_retained'
    return {
      reason,
      ...(replayTooLong ? { replay_ms_max: this.options.replayMsMax } : {}),
      last_event_id: lastEventId,
      first_retained_lsn: wal.firstLsn,
      resume_lsn: endLsn,
      refetch,
    }
  }

  /** An order → account lookup for one replay or one live batch (stream-events.ts accountLookup). */
  private accountLookup(): (orderId: string) => string | null {
    return accountLookup(this.options.engine, this.options.retiredOrderAccountOf)
  }

  /**
   * Hands a durable batch to the live subscribers. The kernel runs ahead of the log: by the time a batch is durable,
   * a later event of the same batch may have retired an order it ended (terminalOrderRetireAfterMs 0), so an order's
   * account comes from the log when the hot state no longer holds it, as in a replay. One lookup serves the batch.
   */
  private publish(events: { event: DomainEvent; lsn: number }[]): void {
    if (this.entries.size === 0) return
    const rendered = new Map<number, Uint8Array>()
    let accountOf: ((orderId: string) => string | null) | null = null
    for (const entry of this.entries) {
      if (entry.subscriber.phase !== 'live') continue
      if (entry.scope.kind === 'account') accountOf ??= this.accountLookup()
      try {
        this.publishTo(entry, events, { rendered, accountOf })
      } catch {
        // The log lookup failed (the log index still being built after a restart: LogIndex.accountOf, or a read error).
        // This stream cannot judge the rest of the batch: it ends, its client resumes with Last-Event-ID and its replay
        // waits for the index. Thrown on, it would have cut the batch short for every stream after this one, unseen.
        entry.subscriber.close('log_unavailable')
      }
    }
  }

  /** Ends every live stream (its client resumes with Last-Event-ID). */
  private endLive(reason: DisconnectReason): void {
    for (const entry of [...this.entries]) if (entry.subscriber.phase === 'live') entry.subscriber.close(reason)
  }

  /**
   * Compaction removed records up to `toLsn` before the held-back feed read them (held-back.ts): each live stream not
   * past them is told as at connect (resync_required, resume_point_not_retained), then goes on after them.
   */
  private resyncLive(toLsn: number): void {
    for (const entry of this.entries) {
      const { subscriber } = entry
      if (subscriber.phase === 'live' && subscriber.lastLsn < toLsn) subscriber.control('resync_required', this.resyncData(entry.scope, subscriber.lastLsn, toLsn), toLsn)
    }
  }

  /** The batch for one live stream; throws when an order's account cannot be looked up (see publish). */
  private publishTo(entry: Entry, events: { event: DomainEvent; lsn: number }[], shared: { rendered: Map<number, Uint8Array>; accountOf: ((orderId: string) => string | null) | null }): void {
    const { rendered, accountOf } = shared
    // Judged once for the whole batch (see Subscriber): a client that had room takes all of it.
    const room = entry.subscriber.hasRoom
    for (const { event, lsn } of events) {
      if (!matches(this.options.engine, entry.scope, event, accountOf ?? undefined)) {
        entry.subscriber.skip(lsn)
        continue
      }
      let bytes = rendered.get(lsn)
      if (bytes === undefined) rendered.set(lsn, (bytes = encodeEvent(lsn, event)))
      if (!entry.subscriber.send(lsn, bytes, room)) return
    }
  }

  /**
   * Sends every stream a heartbeat comment and looks at its authority: an expired token ends its stream now; of the
   * streams whose token needs a new check, at most authorityChecksPerHeartbeatMax are checked, those checked going to
   * the back of the order so that the next heartbeat starts with the others. Run by the timer every heartbeatMs.
   */
  heartbeat(): void {
    if (this.logClosed()) return this.close('shutdown')
    let budget = this.options.authorityChecksPerHeartbeatMax
    const checked: Entry[] = []
    for (const entry of this.entries) {
      entry.subscriber.heartbeat()
      const authority = entry.authority
      if (authority === null || entry.checking) continue
      const state = authority.state()
      if (state === 'expired') entry.subscriber.close('unauthenticated')
      else if (state === 'recheck' && budget > 0) {
        budget--
        checked.push(entry)
        this.checkAuthority(entry, authority)
      }
    }
    for (const entry of checked) if (this.entries.delete(entry)) this.entries.add(entry)
  }

  private checkAuthority(entry: Entry, authority: StreamAuthority): void {
    entry.checking = true
    void authority
      .check()
      .catch(() => false)
      .then((allowed) => {
        entry.checking = false
        if (!allowed) entry.subscriber.close('unauthenticated')
      })
  }

  private remove(subscriber: Subscriber, reason: DisconnectReason): void {
    for (const entry of this.entries) {
      if (entry.subscriber !== subscriber) continue
      this.entries.delete(entry)
      this.options.onSubscribersChanged?.(this.countOf(entry.scope.kind), entry.scope.kind)
    }
    this.options.onDisconnect?.(reason)
  }
}
