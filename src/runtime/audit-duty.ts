/**
 * The runtime's audit duties (DESIGN §7): seal the chain head every N records or T ms and at clean shutdown, run the
 * chain/seal self-check at start and periodically, and on a finding engage the configured kill switch (HALT or
 * CANCEL_ONLY), append the finding and write a forensics bundle. Seal and tamper records go through the engine so the
 * log keeps one writer and one LSN order; the I-100 gate's audit check reads `verified`.
 */

import type { Principal } from '../domain/accounts.ts'
import type { Clock } from '../domain/clock.ts'
import { keyResolverOf, reportTamper, type AuditProblem, type AuditSetup, type SealableLog, type SealKeyResolver, type SealResult } from '../audit/index.ts'
import { decideSwitchInParts } from './decision-parts.ts'
import type { Engine } from './engine.ts'
import type { WorkerThreadStatus } from './worker-channel.ts'

/** The identity the gateway acts as when it reacts to tampering: recorded in the log like any principal. */
export const AUDIT_PRINCIPAL: Principal = { id: 'egress-audit', roles: ['ops'], accounts: [], liveAllowed: false }

/** A seal answered by sealNow, and whether it was written before the call (nothing appended since: `reused`). */
export interface SealAnswer extends SealResult {
  /**
   * True when nothing was appended since this process's last seal, so that seal is the answer as it was: it covers the
   * log as it is now, and its `claims.sealedAtMs` is when it was signed, not when it was asked for (an anchor's reader
   * must not take that time for the time of the answer). False for a seal written by this call.
   */
  reused: boolean
}

export interface AuditDutyOptions {
  engine: Engine
  clock: Clock
  setup: AuditSetup
  configDigest: string
  onError: (error: unknown, context: string) => void
}

export class AuditDuty {
  private readonly options: AuditDutyOptions
  private readonly log: SealableLog & { readonly dir: string }
  private finding: AuditProblem | null = null
  private timerCancel: (() => void) | null = null
  private checking = false
  /** The check under way while `checking` (one at a time: selfCheck). */
  private underWay: Promise<AuditProblem | null> | null = null
  private stopped = false
  private keyResolver: Promise<SealKeyResolver | null> | null = null
  /** The periodic seal under way (and its anchor's offer), if any: one at a time (Sealer.due). */
  private periodicSeal: Promise<void> | null = null

  constructor(options: AuditDutyOptions) {
    this.options = options
    const wal = options.engine.wal
    this.log = {
      dir: wal.dir,
      get lastLsn() {
        return wal.lastLsn
      },
      get chainHead() {
        return wal.chainHead
      },
      epoch: wal.epoch,
      // A seal is taken after the engine closed for a clean stop too: the shutdown seal is that stop's last record.
      append: (records) => options.engine.appendRecords(records, { duringStop: true }),
    }
    const anchors = options.setup.anchors
    // A failed anchor is the operator's to hear of (and counted on /metrics), never a stop: the anchors file is not the log.
    if (anchors !== null) anchors.onError = (error, context) => options.onError(error, `audit anchor: ${context}`)
  }

  /** Anchors this process wrote to the anchors file, and writes of one that failed; null when it writes none. */
  get anchorCounts(): { written: number; failures: number } | null {
    const anchors = this.options.setup.anchors
    return anchors === null ? null : { written: anchors.written, failures: anchors.failures }
  }

  /** Resolves once the periodic seal under way, and every anchor offered so far, is written or has failed. */
  async anchorsIdle(): Promise<void> {
    await this.periodicSeal
    await this.options.setup.anchors?.idle()
  }

  /** False once tampering was found: the I-100 gate then refuses live sends. */
  get verified(): boolean {
    return this.finding === null
  }

  /** The last LSN the self-check has re-derived the chain through (compaction keeps what follows). */
  get verifiedThroughLsn(): number {
    return this.options.setup.selfCheck.verifiedThroughLsn
  }

  /** The self-check's thread: running, its priority, how long an answer has been awaited. */
  get selfCheckThread(): WorkerThreadStatus {
    return this.options.setup.selfCheck.threadStatus
  }

  get lastFinding(): AuditProblem | null {
    return this.finding
  }

  /** The seal verifying keys read at start (the self-check's), as a resolver built once; null when none are configured. */
  verifyingKeys(): Promise<SealKeyResolver | null> {
    const source = this.options.setup.keys
    this.keyResolver ??= source === null ? Promise.resolve(null) : keyResolverOf(source)
    return this.keyResolver
  }

  /**
   * Reacts to what the anchors file said at start and checks the log as it stands: the start calls it before anything
   * reaches a venue (venue sessions, bootstrap's lists, read-backs, cancels and resends), so a finding's kill switch
   * holds those. Run after bootstrap, it let them go out on a log known to be tampered with.
   */
  async checkAtStart(): Promise<void> {
    const { finding, writeError } = this.options.setup.atStart
    if (writeError !== null) {
      const anchors = this.options.setup.anchors
      if (anchors === null) this.options.onError(writeError, 'audit anchor: writing the start line')
      else anchors.reportFailure(writeError, 'writing the start line')
    }
    if (finding !== null) await this.respond(finding)
    await this.selfCheck()
  }

  /**
   * Once bootstrap is done (after checkAtStart): checks what the start wrote since (a tail check from where the first
   * ended; on a new log the first had nothing to read, and the check's thread starts only here), then every
   * selfCheckEveryMs.
   */
  async start(): Promise<void> {
    await this.selfCheck()
    this.arm()
  }

  /** Stops the periodic check and ends its thread (a check under way answers as failed). */
  stop(): void {
    this.stopped = true
    this.timerCancel?.()
    this.timerCancel = null
    this.options.setup.selfCheck.stop()
  }

  /** Called after each durable command: seals when N records or T ms have passed since the last seal. */
  afterCommit(): void {
    const sealer = this.options.setup.sealer
    if (sealer === null || !sealer.due(this.log, this.options.clock.nowMs())) return
    // The anchor is offered once the seal is durable; its write runs on the file system's threads, off the order path.
    const sealing = sealer.maybeSeal(this.log, this.options.clock.nowMs())
      .then((seal) => {
        if (seal !== null) this.options.setup.anchors?.offer(seal, this.options.clock.nowMs())
      })
      .catch((error: unknown) => this.options.onError(error, 'periodic seal'))
      .finally(() => {
        if (this.periodicSeal === sealing) this.periodicSeal = null
      })
    this.periodicSeal = sealing
  }

  /** Seals the head now (clean shutdown, POST /v1/audit/anchor). Null when no signing key is configured. */
  async sealNow(): Promise<SealAnswer | null> {
    const sealer = this.options.setup.sealer
    if (sealer === null || this.options.engine.wal.lastLsn < 1) return null
    // Nothing appended (durable or queued) since the last seal this process wrote: that seal covers the log as it is,
    // and is the answer. Sealing again would seal only that seal: POST /v1/audit/anchor in a loop wrote one per call,
    // on an idle log, without bound (the periodic seal's rule too: never an unchanged head). The answer says it is
    // that seal (`reused`), whose signing time is older than the call.
    // Only if that seal covers everything before its own record: a seal reads the head, then signs, then appends, and
    // records that land while it signs fall between the head it signed and its record. Reused, such a seal left them
    // unsealed at a clean shutdown (specs/runtime/audit-duty.test.ts failed so in CI, 3 and 6 unsealed).
    const last = sealer.lastWritten
    const coversAllBefore = last !== null && last.claims.lsn === last.recordLsn - 1
    if (last !== null && coversAllBefore && last.recordLsn === this.options.engine.appendedLsn && last.recordLsn === this.options.engine.wal.lastLsn) return { ...last, reused: true }
    const seal = await sealer.sealNow(this.log, this.options.clock.nowMs())
    this.options.setup.anchors?.offer(seal, this.options.clock.nowMs())
    return { ...seal, reused: false }
  }

  /**
   * The clean shutdown's seal, and its anchor whatever the anchor spacing (the file's last anchor then covers the log
   * as it was left), written before this resolves.
   */
  async sealAtShutdown(): Promise<void> {
    const seal = await this.sealNow()
    if (seal !== null) this.options.setup.anchors?.offer(seal, this.options.clock.nowMs(), { atShutdown: true })
    await this.anchorsIdle()
  }

  /**
   * Runs the self-check through the log's durable head as it stands now; on a new finding, reacts (kill switch,
   * finding record, forensics bundle). The check runs in its own thread (audit/self-check-thread.ts): a check after
   * 30 s of heavy traffic re-derives hundreds of thousands of records, which the event loop only waits for. One check
   * at a time: a call while one is under way answers the finding so far.
   */
  async selfCheck(): Promise<AuditProblem | null> {
    if (this.checking) return this.finding
    this.checking = true
    const underWay = this.checkNow()
    this.underWay = underWay
    try {
      return await underWay
    } finally {
      this.checking = false
      this.underWay = null
    }
  }

  /**
   * A check through the durable head as it is when called (GET /v1/audit/verify on a large log): after the check under
   * way, if any, which may have begun before the head moved and whose answer selfCheck() would give as it stood.
   * Answered so, a tail edited after the periodic check had read the head was reported verified (review).
   */
  async selfCheckThroughHead(): Promise<AuditProblem | null> {
    while (this.underWay !== null) await this.underWay.catch(() => undefined)
    return this.selfCheck()
  }

  private async checkNow(): Promise<AuditProblem | null> {
    const problem = await this.options.setup.selfCheck.check()
    if (problem !== null && this.finding === null) await this.react(problem)
    return problem
  }

  /**
   * Reacts to tampering found by any check — the periodic self-check, or a full verification an auditor ran on the
   * live log (which re-reads bytes the incremental self-check already passed). Only the first finding reacts.
   */
  async respond(problem: AuditProblem): Promise<void> {
    if (this.finding !== null) return
    await this.react(problem)
  }

  private async react(problem: AuditProblem): Promise<void> {
    this.finding = problem
    const { engine, clock, setup } = this.options
    const action = setup.tamperResponse === 'CANCEL_ONLY' ? 'CANCEL_ONLY' : 'HALT'
    // The evidence is kept whatever becomes of the switch: a switch the engine refused (overloaded, its log failing)
    // skipped the forensics bundle and the finding record with it.
    try {
      await decideSwitchInParts(engine, clock, { principal: AUDIT_PRINCIPAL, action, note: `tamper detected: ${problem.code} at LSN ${problem.lsn}` })
    } catch (error) {
      this.options.onError(error, 'tamper response: the kill switch was not applied')
    }
    const report = await reportTamper({
      log: this.log,
      finding: problem,
      response: setup.tamperResponse,
      forensicsDir: setup.forensicsDir,
      configDigest: this.options.configDigest,
      nowMs: clock.nowMs(),
    })
    for (const error of report.errors) this.options.onError(new Error(error), 'tamper report')
  }

  /** Schedules the next periodic check; never after stop() (a check it cut short is not an error, nor re-armed). */
  private arm(): void {
    if (this.stopped) return
    this.timerCancel = this.options.clock.schedule(this.options.setup.selfCheckEveryMs, () => {
      this.selfCheck()
        .catch((error: unknown) => {
          if (!this.stopped) this.options.onError(error, 'audit self-check')
        })
        .finally(() => this.arm())
    })
  }
}
