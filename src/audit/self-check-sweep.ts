/**
 * The self-check's sweep: the tail check (self-check-thread.ts) reads each record once, as it is appended, so bytes
 * edited after it passed them — a record a week old, rewritten with its chain recomputed up to the next seal — were
 * found only by `egress audit verify`, the verify route, or a start from genesis. The sweep re-reads the log the tail
 * check passed, from the log's first held LSN to where the tail check stood when the pass began, a bounded stretch
 * per check (SWEEP_RECORDS_PER_CHECK), in the same thread at the same idle priority: the chain re-derived from the
 * in-memory base of the first segment, every seal (head, sequence, signature), and at the end of the pass the head
 * the tail check derived there. Then a new pass begins. On a log of a million records that is about fifteen checks
 * (seven minutes at the default 30 s) per pass, at the cost of re-hashing 65,536 records per check.
 *
 * Compaction removes what the sweep is about to read (it runs below the tail check's verified point, which is what
 * compaction may remove): the thread says so (`removed`) and the next check begins a new pass at the new first LSN.
 */

import type { AuditProblem } from './codes.ts'
import type { SealKeySource } from './keys.ts'
import type { SelfCheckReply, SelfCheckRequest } from './self-check-messages.ts'
import type { SliceableLog } from './self-check-thread.ts'

/** Records one check's sweep step re-reads (the tail check reads in calls of the same size). */
export const SWEEP_RECORDS_PER_CHECK = 65_536

interface Pass {
  /** Whether the thread holds this pass's SelfCheck (else the next step starts one at `lsn`). */
  started: boolean
  lsn: number
  head: Uint8Array
  previousSealLsn: number | null
  /** Where the tail check stood when the pass began: the pass ends there, on that head. */
  target: { lsn: number; head: Uint8Array }
}

type Ask = (request: Omit<SelfCheckRequest, 'id'>) => Promise<SelfCheckReply>

export class SelfCheckSweep {
  private pass: Pass | null = null
  /** Passes finished without a finding. */
  passes = 0
  private readonly recordsPerStep: number

  constructor(recordsPerStep = SWEEP_RECORDS_PER_CHECK) {
    this.recordsPerStep = recordsPerStep
  }

  /** The LSN the sweep has re-read through in the current pass (0 between passes). */
  get sweptThroughLsn(): number {
    return this.pass?.lsn ?? 0
  }

  /** The thread was lost: the next step begins a new pass. */
  reset(): void {
    this.pass = null
  }

  /**
   * One stretch of the sweep; `tail` is where the tail check stands (verified LSN and head). Returns a finding or null;
   * throws when the thread could not read for another reason than compaction.
   */
  async step(log: SliceableLog, keys: SealKeySource | null, tail: { lsn: number; head: Uint8Array }, ask: Ask): Promise<AuditProblem | null> {
    const first = log.segments[0]
    if (first === undefined || tail.lsn < log.firstLsn) return null
    this.pass ??= {
      started: false, lsn: log.firstLsn - 1, head: first.previousHash.slice(), previousSealLsn: log.firstLsn <= 1 ? 0 : null,
      target: { lsn: tail.lsn, head: tail.head.slice() },
    }
    const pass = this.pass
    const toLsn = Math.min(pass.target.lsn, pass.lsn + this.recordsPerStep)
    const start = pass.started ? null : { lsn: pass.lsn, chainHead: pass.head, previousSealLsn: pass.previousSealLsn, keys }
    const reply = await ask({
      checker: 'sweep', start, dir: log.dir, slice: log.slice(pass.lsn + 1, toLsn), expectedHead: toLsn === pass.target.lsn ? pass.target.head : null,
    })
    if (!reply.ok) {
      this.pass = null
      if (reply.removed === true) return null
      throw new Error(`the self-check's sweep could not run: ${reply.message}`)
    }
    if (reply.finding !== null) return reply.finding
    pass.started = true
    pass.lsn = reply.verifiedLsn
    pass.head = reply.verifiedHead
    pass.previousSealLsn = reply.previousSealLsn
    if (pass.lsn >= pass.target.lsn) {
      this.pass = null
      this.passes++
    }
    return null
  }
}
