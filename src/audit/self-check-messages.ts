/**
 * What the gateway and its self-check thread (self-check-worker.ts) say to each other. Plain data only: messages cross
 * threads by structured clone.
 */

import type { LogSlice } from '../../wal/index.ts'
import type { AuditProblem } from './codes.ts'
import type { SealKeySource } from './keys.ts'

/** Where a self-check starts: an LSN whose chain head is already verified (or the log's start). */
export interface SelfCheckStart {
  lsn: number
  chainHead: Uint8Array
  /** The last seal record at or before `lsn` (0: none; null: not known), so the next seal's sequence is checked. */
  previousSealLsn: number | null
  /** Null: seals' heads and sequence are checked, not their signatures. */
  keys: SealKeySource | null
}

/**
 * Check the slice (the log from the last verified LSN + 1 through a durable head). `start`: begin anew from there
 * first (the thread's first request, and the first after a thread was lost).
 */
export interface SelfCheckRequest {
  id: number
  /**
   * Which of the thread's two checks: 'tail' follows the durable end; 'sweep' re-reads, a stretch per check, what
   * 'tail' passed before (self-check-sweep.ts). Each has its own SelfCheck, started by its own `start`.
   */
  checker: SelfCheckerName
  start: SelfCheckStart | null
  /** The log directory, named in a finding that cannot be located in a segment. */
  dir: string
  slice: LogSlice
  /** The chain head known at slice.toLsn (the writer's; for a sweep, the tail check's): what the disk must re-derive to. */
  expectedHead: Uint8Array | null
}

export type SelfCheckerName = 'tail' | 'sweep'

export type SelfCheckReply =
  | { id: number; ok: true; finding: AuditProblem | null; verifiedLsn: number; verifiedHead: Uint8Array; sealsChecked: number; previousSealLsn: number | null }
  /** The check could not run (not a finding: nothing is known about the log's bytes). */
  | { id: number; ok: false; message: string; /** A segment of the slice had left the log (compaction) first. */ removed?: boolean }
