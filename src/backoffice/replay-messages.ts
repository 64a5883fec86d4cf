/**
 * What the back office and its replay worker (replay-worker.ts) say to each other. Plain data only: the messages
 * cross threads by structured clone (Maps and bigints survive; class instances do not, so a base ledger travels with
 * its per-order GenerationalMaps as plain Maps and is rebuilt on the other side).
 */

import type { LogSlice } from '../../wal/index.ts'
import { GenerationalMap } from '../domain/generational-map.ts'
import type { LedgerFigures } from './internal-checks.ts'
import type { LedgerState } from './ledger-state.ts'
import type { FoldOutcome, ReplayBase } from './replay-ledger.ts'

/** Fold the slice (after starting over from `base`, when given); with `figures`, answer the replayed figures too. */
export interface FoldRequest {
  id: number
  base: ReplayBase | null
  slice: LogSlice
  figures: boolean
}

export type FoldReply =
  | { id: number; ok: true; outcome: FoldOutcome; started: boolean; foldedLsn: number; figures: LedgerFigures | null }
  /** A fold that failed stays where it stopped (`started`, `foldedLsn`): a retry fails at once, without a start over. */
  | { id: number; ok: false; started: boolean; foldedLsn: number; message: string }

/** `base` as it can cross to the worker (a copy of its per-order Maps; the clone copies the rest). */
export function baseForTransfer(base: ReplayBase): ReplayBase {
  if (base === 'genesis') return base
  return { lsn: base.lsn, ledger: { ...base.ledger, orders: new Map(base.ledger.orders), endedOrders: new Map(base.ledger.endedOrders) } }
}

/** A base received from the other side, with its per-order Maps as the live ledger holds them. */
export function baseFromTransfer(base: ReplayBase): ReplayBase {
  if (base === 'genesis') return base
  const ledger: LedgerState = { ...base.ledger, orders: new GenerationalMap(base.ledger.orders), endedOrders: new GenerationalMap(base.ledger.endedOrders) }
  return { lsn: base.lsn, ledger }
}
