/** What one simulation run is given (run-seed.ts): its size, tracing, and which workload and checks it runs. */

import type { BackOfficeMode } from './backoffice-checks.ts'

export interface SeedOptions {
  /** Workload steps before healing. */
  steps: number
  /** Each step advances simulated time by a uniform 0..stepMsMax ms after its action. */
  stepMsMax: number
  /** Receives one line per step (for `--verbose`). */
  trace?: (line: string) => void
  /** Fail on violations attributed to known, reported bugs too (default: count and list them). */
  strict?: boolean
  /** The workload as it was before amends joined it, to replay seeds found then step for step. */
  withoutAmend?: boolean
  /** The workload as it was before OCO lists joined it (amends in), to replay seeds found then step for step. */
  withoutLists?: boolean
  /**
   * The workload as it was before orders with a time-to-live joined it (lists and amends in), to replay seeds found
   * then step for step. Implied by withoutLists and withoutAmend (older workloads had none either).
   */
  withoutTtl?: boolean
  /** Check the back office too (backoffice-checks.ts): 'on', or 'snapshots' with its section in periodic snapshots. */
  backOffice?: BackOfficeMode
}
