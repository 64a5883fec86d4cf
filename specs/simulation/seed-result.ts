/** What one simulation run gives back (run-seed.ts): its failure if any, its digest, known findings and its figures. */

import type { Violation } from './invariants.ts'

export interface KnownFinding {
  issue: string
  step: number
  message: string
}

export interface SeedFailure {
  seed: number
  /** Step number (1-based); `steps + 1` is the end-of-run phase. */
  step: number
  violations: Violation[]
  /** The last actions before the failure. */
  recent: string[]
  replay: string
}

export interface SeedResult {
  seed: number
  steps: number
  checks: number
  failure: SeedFailure | null
  /** Digest of the final kernel state (null when the seed failed before the end): equal for equal runs. */
  digest: string | null
  /** Violations attributed to known issues (non-strict runs only). */
  known: KnownFinding[]
  stats: SeedStats
}

export interface SeedStats {
  simulatedMs: number
  orders: number
  venueOrders: number
  restarts: number
  unknowns: number
  unknownDwellMsMax: number
  lane0Sends: number
  lane0WaitMsMax: number
  lane0WaitBoundMs: number
  convergeBoundMs: number
  duplicatePlaces: number
  reportsDropped: number
  reportsDuplicated: number
  /** Venue calls asking about one order (read-backs and reconciles), and for the list of open orders (sweeps). */
  statusReads: number
  openOrderLists: number
  /** Venue trades whose cash (qty × price) is not a whole 1e-8 unit, so it rounds (RND-USD, with the back office checked). */
  cashRoundedTrades: number
  counters: Record<string, number>
}
