/** The world a seed runs on (run-seed.ts): venue health settings, the gateway's reconcile retry, its data directory. */

import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { venueHealthDefaults } from '../../src/config/index.ts'
import { tempDataDir } from '../runtime/harness.ts'

/**
 * Venue health scoring on in every seed (config defaults but a short window and few samples, so the faults the seeds
 * inject move venues to DEGRADED and CRITICAL and back): its records, check 8's blocks and the replay of both are
 * checked by every invariant.
 */
export const SIM_VENUE_HEALTH = { ...venueHealthDefaults(), windowMs: 5_000, samplesMin: 5, evaluateEveryMs: 500 }

/** The gateway's reconcile retry after an unanswered query (see specs/runtime/harness.ts). */
export const RECONCILE_RETRY_MS = 500

/**
 * A fresh data directory, on tmpfs when there is one: the log's directory and lease fsyncs (which durability `none`
 * keeps) would otherwise make a run wait on the disk for most of its wall time.
 */
export function simDataDir(): string {
  try {
    return mkdtempSync(join('/dev/shm', 'egress-sim-'))
  } catch {
    return tempDataDir()
  }
}
