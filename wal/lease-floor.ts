/**
 * The log floor of a lease record (wal/lease.ts, `replicatedLsn`): what a taker of a free lease writes into its new
 * record, and whether its log may take the lease at all.
 */

import { LeaseLogBehindError } from './errors.ts'
import type { LeaseOptions, LeaseRecord } from './lease.ts'

/** A taker that went below the floor with acceptDataLoss: the record it superseded and where its own log ended. */
export interface DataLossAccepted {
  holderId: string
  epoch: number
  replicatedLsn: number
  logEndLsn: number
}

/**
 * The floor a taker of a free lease starts its record with, or LeaseLogBehindError: the current record's floor when the
 * taker's log reaches it (or the taker is not judged), else — with acceptDataLoss — the taker's log end, which is all
 * that is left of the history (a floor above it would refuse every node that follows this one).
 */
export function logFloor(current: LeaseRecord | null, options: LeaseOptions): { replicatedLsn: number; dataLossAccepted: DataLossAccepted | null } {
  const replicatedLsn = current?.replicatedLsn ?? 0
  if (current === null || replicatedLsn === 0 || options.logEndLsn === undefined) return { replicatedLsn, dataLossAccepted: null }
  const logEndLsn = options.logEndLsn()
  if (logEndLsn >= replicatedLsn) return { replicatedLsn, dataLossAccepted: null }
  const superseded = { holderId: current.holderId, epoch: current.epoch, replicatedLsn }
  if (options.acceptDataLoss !== true) throw new LeaseLogBehindError(superseded, logEndLsn)
  return { replicatedLsn: logEndLsn, dataLossAccepted: { ...superseded, logEndLsn } }
}
