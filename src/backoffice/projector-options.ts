/**
 * What the projector (projector.ts) is opened with, and the figures it reports (stats): the back office's /v1/stats.
 */

import type { Clock } from '../domain/clock.ts'
import type { Engine } from '../runtime/engine.ts'
import type { WriteFailureReport } from './write-failures.ts'

export interface ProjectorOptions {
  engine: Engine
  clock: Clock
  /** SQLite file of the query model; ':memory:' keeps it in memory. */
  storePath: string
  /** How often pending rows are written. */
  flushIntervalMs: number
  /** Pending rows above this are written at once (next tick) instead of waiting for the interval. */
  batchRowsMax: number
  /**
   * The back-office section of the snapshot the engine started from (section.ts): the ledger, break book and query
   * model at its LSN. Used when it fits the log; then only the log after it is replayed, and a stored query model
   * that is missing, behind, or does not match the log is replaced by the section's copy.
   */
  section?: Uint8Array
  /** A stored query model past the log's end refuses the open (projector-start.ts, QUERY_MODEL_BEYOND_LOG); default false. */
  refuseStoreBeyondLog?: boolean
  /** Where failed query model writes are told (write-failures.ts); default stderr. The gateway's onError in serve. */
  report?: WriteFailureReport
}

export const PROJECTOR_DEFAULTS = { flushIntervalMs: 100, batchRowsMax: 5_000 } as const

export interface ProjectorStats {
  appliedLsn: number
  storedLsn: number
  walLastLsn: number
  lagRecords: number
  pendingRows: number
  batchesWritten: number
  rebuiltStore: boolean
  startedFromLsn: number
  /**
   * False when the log no longer starts at LSN 1 (compacted) and the back office did not start from a snapshot's
   * section: its figures would miss the compacted history.
   */
  ledgerComplete: boolean
  /** The snapshot section the back office started from (its LSN), or null for a replay of the whole log. */
  sectionLsn: number | null
  /** Whether the stored query model was replaced by the section's copy (missing, behind, or not matching the log). */
  restoredStore: boolean
  /** Why a section given at start was not used, or null. */
  sectionProblem: string | null
  /** Why the query model is written no further (projector-start.ts: LEDGER_INCOMPLETE; write-failures.ts: stopped), or null. */
  storeHeld: string | null
}
