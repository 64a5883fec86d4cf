/**
 * The engine: the kernel driven by the log. Commands are decided one at a time, in the order they arrive; their
 * events are applied to the in-memory state at once (so the next command sees them, as the kernel requires) and
 * queued on the WAL in the same order. The caller's promise resolves only when those events are durable — that is
 * the ACK boundary. Memory may run ahead of disk by the records in the current group-commit batch; if the log dies,
 * the process exits and restarts from the log, so nothing undurable is ever acted on outside the process: the
 * executor calls a venue only after awaiting its `send_requested` record.
 *
 * LSNs are predicted at decide time (the engine is the log's only writer) and checked when the append resolves.
 */

import { wellFormedDeep } from '../domain/well-formed.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import { applyInPlace, decide, initialState, type Decision, type KernelCommand, type KernelState } from '../kernel/index.ts'
import { AssertionError, PAYLOAD_BYTES_MAX, recordProblem, WalClosedError, WalRecordError, type Frame, type RecordInput, type Wal } from '../../wal/index.ts'
import { AppliedRecord } from './applied-record.ts'
import { CommandAppend } from './command-append.ts'
import { EngineOverloadedError, type AppliedEvent, type CommandSink, type Committed, type DurableListener } from './engine-types.ts'
import { checkLsns, LandedAnswers } from './landed-answers.ts'
import type { PlaceSendGate } from './place-send-gate.ts'
import { replayFrames } from './replay-frames.ts'
import type { DurabilityWaiters } from './durability-waiters.ts'
import { QueuedDurability } from './queued-durability.ts'
import { domainEventOf } from './records.ts'
import { CommandRecordError, encodeCommandRecord, isCommandRecord } from './ha/command-record.ts'
import type { ShadowDecider } from './ha/shadow.ts'

export type { AppliedEvent, CommandSink, Committed, DurableListener, SendGateVerdict } from './engine-types.ts'
export { EngineOverloadedError } from './engine-types.ts'

/** Engine.commit's answer when the command's records are queued and its answer will be told when they land. */
const QUEUED = Symbol('queued')

/** Tells `sink` how `answer` (a refusal, or a wait for the log without writing) ends: the rarer paths of submitTo. */
function tellSink(answer: Promise<Committed>, sink: CommandSink, command: KernelCommand): void {
  answer.then(
    (committed) => sink.resolve(committed, command),
    (error: unknown) => sink.reject(error, command),
  )
}

export class Engine {
  readonly wal: Wal
  readonly state: KernelState
  private nextLsn: number
  private readonly listeners = new Set<DurableListener>()
  private pendingCount = 0
  private idleWaiters: (() => void)[] = []
  /** applyInPlace reads meta.lsn and keeps nothing of it: one object serves every event applied. */
  private readonly applyMeta = { lsn: 0 }
  /** Answers the commands the log answered, listeners first, from one microtask per batch (landed-answers.ts). */
  private readonly landing: LandedAnswers
  /** Answers and reads waiting for the records queued before them to be durable (queued-durability.ts). */
  private readonly queuedDurability: QueuedDurability
  /** Callers of decisions that wrote nothing, waiting for the log (bounded: `.max`). */
  readonly durabilityWaiters: DurabilityWaiters
  /** Reads waiting for the log (appliedDurable), under a bound of their own (`.max`). */
  readonly readWaiters: DurabilityWaiters
  /**
   * HA: write each decision's command as a kernel.command record (src/runtime/ha/command-record.ts) just before its
   * events, so a standby can decide it again in shadow mode. Off on a single node (log bytes and CPU per command).
   */
  commandRecords = false
  /** Commands that could not be written as command records (not plain data); their decisions were logged as usual. */
  commandRecordFailures = 0
  /** Standby: decides each replicated command record again and compares (src/runtime/ha/shadow.ts); null: off. */
  shadow: ShadowDecider | null = null
  /**
   * This process's build (GatewayOptions.buildCommit), which the runtime's own commands name (a start's mode, stale
   * places and resends, auto-stop's and the audit's kill switches, a time-to-live's end) so their records carry it
   * (kernel/attribution.ts, §9). Null (an engine no gateway runs): those commands name none.
   */
  buildCommit: string | null = null
  /**
   * HA leader in synchronous replication (place-send-gate.ts): a decision that requests a venue place or amend is not
   * handed back (so the executor does not call the venue) until this resolves for its last LSN — the standby holds
   * the send record, so a new leader after a failover knows the call may have been made and reconciles instead of
   * making it again. `{ send: false }` comes back as `sendHeld`: the call is never made for this send record.
   * Installed before the executor starts (GatewayOptions.beforeBootstrap), so bootstrap's resends are gated too.
   * Null: no wait.
   */
  placeSendGate: PlaceSendGate | null = null
  /**
   * Where a durable listener's failure goes. Every listener is called for every batch regardless — one that throws
   * (a projection's invariant check) must not starve the ones after it (SSE, executor wake-ups), nor turn a durable,
   * applied command into a failed one for its caller. Null: the first failure is rethrown after all listeners ran
   * (the commit's promise rejects; applyReplicated throws).
   *
   * With a handler, the commands one log batch made durable are told in one call: every listener once per batch (~40
   * commands at bench:http's maximum), not once per command. Without one, each command is told alone, so that a
   * failure rejects the command whose events it was given.
   */
  onListenerError: ((error: unknown) => void) | null = null
  /** Why commands are refused (closeForStop), or null while they are taken. */
  private closedFor: string | null = null

  private constructor(wal: Wal, state: KernelState) {
    this.wal = wal
    this.state = state
    this.nextLsn = wal.lastLsn + 1
    this.queuedDurability = new QueuedDurability(wal)
    this.durabilityWaiters = this.queuedDurability.answers
    this.readWaiters = this.queuedDurability.reads
    this.landing = new LandedAnswers({
      listenerErrorHandler: () => this.onListenerError,
      placeSendGate: () => this.placeSendGate,
      tellListeners: (applied) => this.tellListeners(applied),
      settleOne: this.settleOne,
      releaseQueued: () => this.queuedDurability.release(),
    })
  }

  /** Replays the whole log into a fresh kernel state (snapshots later shorten this) and returns the engine. */
  static replay(wal: Wal, options: { onProgress?: (lsn: number) => void } = {}): Engine {
    const state = initialState()
    replayFrames(state, wal.read(wal.firstLsn), options)
    return new Engine(wal, state)
  }

  /**
   * Starts from a verified snapshot (src/runtime/snapshot: its digest, schema and chain head at `lsn` already checked
   * against this log) and replays only the records after `lsn`. The state object is taken over, not copied.
   */
  static fromSnapshot(wal: Wal, snapshot: { state: KernelState; lsn: number }, options: { onProgress?: (lsn: number) => void } = {}): Engine {
    if (snapshot.lsn < wal.firstLsn || snapshot.lsn > wal.lastLsn || snapshot.state.lastLsn !== snapshot.lsn) {
      throw new AssertionError(`snapshot at LSN ${snapshot.lsn} (state at ${snapshot.state.lastLsn}) does not fit the log ${wal.firstLsn}..${wal.lastLsn}`)
    }
    replayFrames(snapshot.state, wal.read(snapshot.lsn + 1), options)
    return new Engine(wal, snapshot.state)
  }

  /**
   * Decides `command`, applies its events and queues them on the log. Resolves once they are durable. Rejects with
   * EngineOverloadedError, having applied nothing, when the log queue has no room.
   */
  submit(raw: KernelCommand): Promise<Committed> {
    return this.submitIfRoom(raw) ?? Promise.reject(new EngineOverloadedError('log queue full; retry later'))
  }

  /**
   * submit(), but null at once when the log's queue has no room (nothing applied), for a caller that holds the command
   * and keeps its commands in order (report-intake.ts). A dead log still rejects with its error.
   */
  submitIfRoom(raw: KernelCommand): Promise<Committed> | null {
    return this.decideAndCommit(raw, null) as Promise<Committed> | null
  }

  /** submit(), answering `sink` instead of a promise (see CommandSink): the same outcomes, told to its methods. */
  submitTo(raw: KernelCommand, sink: CommandSink): void {
    if (!this.submitIfRoomTo(raw, sink)) tellSink(Promise.reject(new EngineOverloadedError('log queue full; retry later')), sink, raw)
  }

  /** submitIfRoom(), answering `sink` (see CommandSink); false, and `sink` never told, when the log's queue has no room. */
  submitIfRoomTo(raw: KernelCommand, sink: CommandSink): boolean {
    const early = this.decideAndCommit(raw, sink)
    if (early === null) return false
    if (early !== QUEUED) tellSink(early, sink, raw)
    return true
  }

  /**
   * Decides `raw` and commits its decision (see commit): with `sink`, QUEUED once it will be told; without one, the
   * answer's promise. Null when the log's queue has no room.
   */
  private decideAndCommit(raw: KernelCommand, sink: CommandSink | null): Promise<Committed> | null | typeof QUEUED {
    if (this.closedFor !== null) return Promise.reject(new WalClosedError(this.closedFor))
    // Lone surrogates (from JSON escapes) become U+FFFD before the kernel sees them, so what it applies is what the log
    // can hold (src/domain/well-formed.ts); a command without one is used as it is.
    const command = wellFormedDeep(raw)
    const decision = decide(this.state, command)
    // A loop, not map with an arrow: one closure fewer per command. Each event's record is also its applied event.
    const applied: AppliedRecord[] = new Array(decision.events.length)
    for (let index = 0; index < applied.length; index++) applied[index] = new AppliedRecord(decision.events[index] as DomainEvent)
    let commandRecord: RecordInput | null = null
    if (this.commandRecords && applied.length > 0) {
      try {
        commandRecord = encodeCommandRecord(command, applied.length)
      } catch (error) {
        // A command holding something that is not plain data: decided and logged as usual, only not re-decidable.
        if (!(error instanceof CommandRecordError)) throw error
        this.commandRecordFailures++
      }
    }
    return this.commit(decision, applied, commandRecord, sink, raw)
  }

  /** Appends non-kernel records (audit seals, back-office runs) in log order; once closed, only `duringStop` ones. */
  appendRecords(records: RecordInput[], options: { duringStop?: boolean } = {}): Promise<number[]> {
    if (this.closedFor !== null && options.duringStop !== true) return Promise.reject(new WalClosedError(this.closedFor))
    // A record the log would refuse is refused here, before LSNs are reserved for it: reserved and then refused by the
    // log, they were never given back, and the next command's predicted LSNs no longer fit (the process stopped).
    for (const record of records) {
      const problem = recordProblem(record)
      if (problem !== null) return Promise.reject(new WalRecordError(`a record the log would refuse (${problem}); nothing was appended`))
    }
    const payloadBytes = records.reduce((sum, record) => sum + record.payload.byteLength, 0)
    // A dead log has no room either: its error says why (a lost lease, a failed fsync), not "full".
    if (!this.wal.hasRoomFor(records.length, payloadBytes)) return Promise.reject(this.deadLogError() ?? new EngineOverloadedError('log queue full'))
    const firstLsn = this.reserveLsns(records.length)
    const appended = this.wal.append(records)
    // A batch may hold these records alone: its waiting event-less decisions are answered from here then.
    appended.then(this.onRecordsAppended, this.onRecordsAppended)
    return this.track(
      appended.then((lsns) => {
        checkLsns(lsns, firstLsn)
        return lsns
      }),
    )
  }

  /**
   * Standby: applies frames the replica log has just made durable (Wal.appendFrames), in log order, and tells the
   * durable listeners, so every projection stays hot. The engine must not be deciding anything itself meanwhile:
   * a replica log refuses appends, and a frame out of order is a bug.
   */
  applyReplicated(frames: readonly Frame[]): void {
    if (this.pendingCount !== 0) throw new AssertionError(`a standby engine has ${this.pendingCount} commands of its own in flight`)
    const applied: AppliedEvent[] = []
    const shadow = this.shadow
    for (const frame of frames) {
      if (frame.lsn !== this.nextLsn) throw new AssertionError(`replicated frame LSN ${frame.lsn}, engine expected ${this.nextLsn}`)
      this.nextLsn++
      // Shadow mode: the leader's command is decided again on this state (before its events are applied) and compared.
      if (shadow !== null && isCommandRecord(frame.type)) shadow.command(frame, this.state)
      const event = domainEventOf(frame)
      if (event === null) continue
      shadow?.event(frame, this.state)
      applyInPlace(this.state, event, { lsn: frame.lsn })
      applied.push({ event, lsn: frame.lsn })
    }
    if (applied.length > 0) this.tellListeners(applied)
  }

  /** Calls `listener` with each durable command's events, in log order. */
  onDurable(listener: DurableListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Why the log takes nothing more, or null when it is only full: its fatal error (a lost lease, a failed fsync), or
   * WalClosedError once closed. A log closed without the stop's drain (a start that failed part way: Gateway.abandon)
   * answered "log queue full; retry later" to what came back after (bootstrap's listing of the other venues).
   */
  private deadLogError(): Error | null {
    return this.wal.fatalError ?? (this.wal.isClosed ? new WalClosedError('the log is closed') : null)
  }

  /** A drained clean stop (stop-drain.ts): later commands and records but the stop's own get WalClosedError. */
  closeForStop(reason: string): void {
    this.closedFor ??= reason
  }

  /** Resolves when nothing submitted is still waiting for the log. */
  settled(): Promise<void> {
    if (this.pendingCount === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /**
   * Resolves once every record applied to memory so far is durable: a read of the state answered after it shows
   * nothing a crash could lose (HTTP GET of orders). Rejects as answerWhenQueuedDurable does (READ_WAITERS_MAX).
   */
  appliedDurable(): Promise<void> {
    return this.queuedDurability.whenDurable(this.readWaiters, this.nextLsn - 1, undefined, 'reads')
  }

  get pending(): number {
    return this.pendingCount
  }

  /**
   * `commandRecord`, when given, is appended first, in the same append as the events (HA shadow mode). The answer's
   * promise, or with `sink` QUEUED once the sink will be told (a refusal or a wait for the log comes back as a promise
   * still); null when the log's queue has no room for the records (see submitIfRoom). `raw` is the command as
   * submitted, handed to the sink with its answer.
   */
  private commit(decision: Decision, events: AppliedRecord[], commandRecord: RecordInput | null, sink: CommandSink | null, raw: KernelCommand): Promise<Committed> | null | typeof QUEUED {
    if (events.length === 0) return this.answerWhenQueuedDurable({ decision, lsns: [] })
    const records: RecordInput[] = commandRecord === null ? events : [commandRecord, ...events]
    const skipped = records.length - events.length
    let payloadBytes = 0
    for (const record of records) {
      // A record the log would refuse (a venue report carrying a megabyte of text) is refused before anything is
      // applied: applied first, memory held events the log never took and the next command's LSNs no longer fit.
      if (record.payload.byteLength > PAYLOAD_BYTES_MAX) return Promise.reject(new WalRecordError(`a record of ${record.payload.byteLength} bytes exceeds ${PAYLOAD_BYTES_MAX}; the decision is dropped`))
      payloadBytes += record.payload.byteLength
    }
    if (!this.wal.hasRoomFor(records.length, payloadBytes)) {
      // Nothing was applied: the decision is dropped whole, so memory never holds what the log refused.
      const dead = this.deadLogError()
      return dead === null ? null : Promise.reject(dead)
    }
    const firstLsn = this.reserveLsns(records.length)
    const meta = this.applyMeta
    for (let index = 0; index < events.length; index++) {
      const applied = events[index] as AppliedRecord
      const lsn = firstLsn + skipped + index
      applied.lsn = lsn
      meta.lsn = lsn
      try {
        applyInPlace(this.state, applied.event, meta)
      } catch (error) {
        return Promise.reject(this.haltMidDecision(applied.event, lsn, index, error))
      }
    }
    // The caller's promise is made only here, once its records are queued: a refusal makes none.
    const answer = sink ?? Promise.withResolvers<Committed>()
    this.pendingCount++
    this.wal.appendOwn(new CommandAppend(this.landing, decision, records, events, firstLsn, skipped, answer, sink !== null, raw))
    return sink === null ? (answer as PromiseWithResolvers<Committed>).promise : QUEUED
  }

  /**
   * Applying a decision failed after `index` of its events were applied (a kernel bug: apply refused what decide
   * built). Memory now holds events the log will never have and the LSNs reserved for them, so nothing decided from
   * it may be logged: the log is halted like a failed write (every later command is refused, `died` resolves and the
   * process exits; the restart replays the log, which holds none of this decision).
   */
  private haltMidDecision(event: DomainEvent, lsn: number, index: number, error: unknown): Error {
    this.wal.halt(`applying ${event.type} (LSN ${lsn}, event ${index + 1} of its decision) failed; memory no longer matches the log, which is stopped: ${String(error)}`, error)
    return this.wal.fatalError ?? (error instanceof Error ? error : new Error(String(error)))
  }

  /**
   * A decision that wrote nothing is answered once every record queued before it is durable. It was decided from
   * memory, which runs ahead of the log by the batch being written, and its answer may rest on that batch: a repeat of
   * an idempotent request answers with the first request's outcome (a 202 for the order), a cancel already requested
   * answers done. Answered at once when nothing is waiting for the log; rejected with the log's error when the log
   * died, as the records it rests on were.
   */
  private answerWhenQueuedDurable(committed: Committed): Promise<Committed> {
    return this.queuedDurability.whenDurable(this.durabilityWaiters, this.nextLsn - 1, committed, 'answers')
  }

  /** Calls every durable listener with `applied`; failures go to onListenerError (see there). */
  private tellListeners(applied: AppliedEvent[]): void {
    let failed: { error: unknown } | null = null
    for (const listener of this.listeners) {
      try {
        listener(applied)
      } catch (error) {
        if (this.onListenerError !== null) this.onListenerError(error)
        else failed ??= { error }
      }
    }
    if (failed !== null) throw failed.error
  }

  /** The last LSN handed to the log, durable or not yet (wal.lastLsn is the last durable one). */
  get appendedLsn(): number {
    return this.nextLsn - 1
  }

  /** The first of `count` LSNs: the log assigns consecutive ones from its next, so the engine can apply before the write. */
  private reserveLsns(count: number): number {
    const firstLsn = this.nextLsn
    this.nextLsn += count
    return firstLsn
  }


  private track<T>(promise: Promise<T>): Promise<T> {
    this.pendingCount++
    promise.then(this.settleOne, this.settleOne)
    return promise
  }

  /**
   * A batch that held commands too answers its waiters from answerLanded (landed-answers.ts), after those commands'
   * callers: released from here first, a repeat would be answered before the original it repeats (its reaction is
   * queued ahead of answerLanded).
   */
  private readonly onRecordsAppended = (): void => {
    if (!this.landing.queued) this.queuedDurability.release()
  }

  private readonly settleOne = (): void => {
    this.pendingCount--
    if (this.pendingCount === 0) for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
