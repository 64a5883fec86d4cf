/**
 * Wiring audit into a running gateway from its config: the Sealer (resumed from the last seal in the log), the
 * SelfCheck (seal keys from audit.publicKeyFile, or the public half of the signing key), and where forensics go. The
 * runtime then calls `sealer.maybeSeal` after appends (or on a timer), `sealer.sealNow` at clean shutdown,
 * `selfCheck.check()` at start and every `selfCheckEveryMs`, and on a finding switches to `tamperResponse` and calls
 * `reportTamper`.
 */

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { JWK } from 'jose'
import type { AuditConfig } from '../config/index.ts'
import { keyResolverFromJwk, loadKeyResolver, loadSigningKey, type SealKeyResolver } from './keys.ts'
import type { TamperResponse } from './records.ts'
import { SelfCheck, type CheckableLog } from './self-check.ts'
import { Sealer, findLastSeal, type ReadableLog } from './sealer.ts'

export const FORENSICS_DIR_DEFAULT = 'forensics'

/**
 * Records the runtime's self-check re-derives per `check()` (a few µs each): the audit duty calls it slice after
 * slice with an event-loop turn between, so a check holds the loop a few milliseconds at a time.
 */
export const SELF_CHECK_SLICE_RECORDS = 256

export interface AuditSetup {
  /** Null when no signing key is configured: the gateway appends no seals (fine for paper, flagged for live). */
  sealer: Sealer | null
  selfCheck: SelfCheck
  selfCheckEveryMs: number
  tamperResponse: TamperResponse
  forensicsDir: string
}

/**
 * `from`: where the self-check starts — the log's start by default; on a restart from a snapshot, the snapshot's LSN
 * and chain head (which the restore compared with the log), so the check at start re-derives only the records after
 * it rather than the whole log. Everything before it is for `egress audit verify`.
 */
export async function setUpAudit(options: { config: AuditConfig; dataDir: string; log: CheckableLog & ReadableLog; from?: { lsn: number; chainHead: Uint8Array } }): Promise<AuditSetup> {
  const { config, log } = options
  const keys = await verifyingKeys(config)
  const sealer = config.signingKeyFile === undefined
    ? null
    : new Sealer({
      signer: await loadSigningKey(config.signingKeyFile),
      everyRecords: config.sealEveryRecords,
      everyMs: config.sealEveryMs,
      lastSeal: findLastSeal(log),
    })
  return {
    sealer,
    selfCheck: new SelfCheck(log, { keys, recordsPerCheckMax: SELF_CHECK_SLICE_RECORDS, ...(options.from === undefined ? {} : { from: options.from }) }),
    selfCheckEveryMs: config.selfCheckEveryMs,
    tamperResponse: config.tamperResponse,
    forensicsDir: config.forensicsDir ?? join(options.dataDir, FORENSICS_DIR_DEFAULT),
  }
}

async function verifyingKeys(config: AuditConfig): Promise<SealKeyResolver | null> {
  if (config.publicKeyFile !== undefined) {
    const parsed = JSON.parse(readFileSync(config.publicKeyFile, 'utf8')) as { keys?: unknown }
    return Array.isArray(parsed.keys) ? loadKeyResolver({ jwksPath: config.publicKeyFile }) : loadKeyResolver({ publicKeyPath: config.publicKeyFile })
  }
  if (config.signingKeyFile !== undefined) {
    // The public half of the signing key (keyResolverFromJwk drops the private part before importing).
    await loadSigningKey(config.signingKeyFile) // the same mode check as the Sealer's
    return keyResolverFromJwk(JSON.parse(readFileSync(config.signingKeyFile, 'utf8')) as JWK)
  }
  return null
}
