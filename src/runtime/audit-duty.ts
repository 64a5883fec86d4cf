/**
 * The runtime's audit duties (DESIGN §7): seal the chain head every N records or T ms and at clean shutdown, run the
 * chain/seal self-check at start and periodically, and on a finding engage the configured kill switch (HALT or
 * CANCEL_ONLY), append the finding and write a forensics bundle. Seal and tamper records go through the engine so the
 * log keeps one writer and one LSN order; the I-100 gate's audit check reads `verified`.
 */

import type { Principal } from '../domain/accounts.ts'
import type { Clock } from '../domain/clock.ts'
import { reportTamper, type AuditProblem, type AuditSetup, type SealableLog } from '../audit/index.ts'
import type { Engine } from './engine.ts'
import { loopSharePause } from './loop-share.ts'

/** One event-loop turn between self-check slices: the check at start, before intake opens, and checks asked for. */
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * The periodic self-check's pacing: at most a quarter of the event loop, at most 50 ms between two slices. A check
 * after 30 s of traffic re-derives every record logged meanwhile. With the reference hash (~13 µs a record, before
 * self-check.ts hashed natively) that was about 1.3 s of CPU at bench:http's half load (~11k records/s), which with one
 * loop turn between slices held most of the loop for ~4 s and queued intake behind it; now it is a few µs a record
 * (the log's reader is most of it). Paced, a check takes longer and leaves intake the rest; under a sustained rate
 * beyond what a quarter of the loop re-derives, the check falls behind (verifiedThroughLsn lags) until the rate drops —
 * detection is later, nothing goes unchecked.
 */
export const SELF_CHECK_PACING = { loopShareMax: 0.25, waitMsMax: 50 } as const

/** The identity the gateway acts as when it reacts to tampering: recorded in the log like any principal. */
export const AUDIT_PRINCIPAL: Principal = { id: 'egress-audit', roles: ['ops'], accounts: [], liveAllowed: false }

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
      append: (records) => options.engine.appendRecords(records),
    }
  }

  /** False once tampering was found: the I-100 gate then refuses live sends. */
  get verified(): boolean {
    return this.finding === null
  }

  get lastFinding(): AuditProblem | null {
    return this.finding
  }

  /** Checks the log as it stands, then repeats every selfCheckEveryMs. */
  async start(): Promise<void> {
    await this.selfCheck()
    this.arm()
  }

  stop(): void {
    this.timerCancel?.()
    this.timerCancel = null
  }

  /** Called after each durable command: seals when N records or T ms have passed since the last seal. */
  afterCommit(): void {
    const sealer = this.options.setup.sealer
    if (sealer === null || !sealer.due(this.log, this.options.clock.nowMs())) return
    sealer.maybeSeal(this.log, this.options.clock.nowMs()).catch((error: unknown) => this.options.onError(error, 'periodic seal'))
  }

  /** Seals the head now (clean shutdown, POST /v1/audit/anchor). Null when no signing key is configured. */
  async sealNow(): Promise<Awaited<ReturnType<NonNullable<AuditSetup['sealer']>['sealNow']>> | null> {
    const sealer = this.options.setup.sealer
    if (sealer === null || this.options.engine.wal.lastLsn < 1) return null
    return sealer.sealNow(this.log, this.options.clock.nowMs())
  }

  /**
   * Runs the self-check through the log as it stands now; on a new finding, reacts (kill switch, finding record,
   * forensics bundle). Each `check()` re-derives at most the setup's slice of records (SELF_CHECK_SLICE_RECORDS,
   * a few µs each), with `pause` between slices (default: one event-loop turn; the periodic
   * check paces itself, SELF_CHECK_PACING): a check after 30 s of heavy traffic re-derives hundreds of thousands of
   * records and would otherwise hold the loop for seconds.
   */
  async selfCheck(options: { pause?: () => Promise<void> } = {}): Promise<AuditProblem | null> {
    if (this.checking) return this.finding
    this.checking = true
    try {
      const check = this.options.setup.selfCheck
      const pause = options.pause ?? yieldTurn
      const targetLsn = this.options.engine.wal.lastLsn
      let problem = await check.check()
      while (problem === null && check.verifiedThroughLsn < targetLsn) {
        const before = check.verifiedThroughLsn
        await pause()
        problem = await check.check()
        if (check.verifiedThroughLsn === before) break
      }
      if (problem !== null && this.finding === null) await this.react(problem)
      return problem
    } finally {
      this.checking = false
    }
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
    await engine.submit({ kind: 'kill_switch', nowMs: clock.nowMs(), principal: AUDIT_PRINCIPAL, action, note: `tamper detected: ${problem.code} at LSN ${problem.lsn}` })
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

  private arm(): void {
    this.timerCancel = this.options.clock.schedule(this.options.setup.selfCheckEveryMs, () => {
      this.selfCheck({ pause: loopSharePause({ shareMax: SELF_CHECK_PACING.loopShareMax, waitMsMax: SELF_CHECK_PACING.waitMsMax }) })
        .catch((error: unknown) => this.options.onError(error, 'audit self-check'))
        .finally(() => this.arm())
    })
  }
}
