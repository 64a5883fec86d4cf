/**
 * Wiring audit into a running gateway from its config: the Sealer (resumed from the last seal in the log), the
 * self-check in a thread of its own (self-check-thread.ts; seal keys from audit.publicKeyFile, or the public half of
 * the signing key), and where forensics go. The runtime then calls `sealer.maybeSeal` after appends (or on a timer),
 * `sealer.sealNow` at clean shutdown, `selfCheck.check()` at start and every `selfCheckEveryMs`, and on a finding
 * switches to `tamperResponse` and calls `reportTamper`.
 */

import { join } from 'node:path'
import type { JWK } from 'jose'
import type { AuditConfig } from '../config/index.ts'
import type { Durability } from '../../wal/index.ts'
import type { AnchorsWriter } from './anchors-writer.ts'
import type { AuditProblem } from './codes.ts'
import { checkAnchorsAtStart, noteStartInAnchorsFile } from './anchor-at-start.ts'
import { ANCHOR_EVERY_MS_DEFAULT, ANCHORS_FILE_BYTES_MAX_DEFAULT, AnchorWriter } from './anchor-writer.ts'
import { KeyFileError, keySourceOfJson, loadSigningKey, publicKeySource, readKeyJson, type SealKeySource, type SealSigningKey } from './keys.ts'
import { AUDIT_DATA_DIR } from './local-key.ts'
import type { TamperResponse } from './records.ts'
import { SelfCheckThread, type SliceableLog } from './self-check-thread.ts'
import { Sealer, findLastSeal, type ReadableLog } from './sealer.ts'

export const FORENSICS_DIR_DEFAULT = 'forensics'
/** The anchors file's name in <dataDir>/audit when audit.anchorsFile is unset. */
export const ANCHORS_FILE_DEFAULT = 'anchors.jsonl'

export interface AuditSetup {
  /** Null when no signing key is configured: the gateway appends no seals (fine for paper, flagged for live). */
  sealer: Sealer | null
  /** Appends seals' anchors to the anchors file; null without a sealer or with audit.anchorEveryMs 0. */
  anchors: AnchorWriter | null
  /**
   * What the anchors file said of the log at start (anchor-at-start.ts: records appended or rewritten while stopped),
   * and why the start line could not be written (null when it was, or when a start is not checked).
   */
  atStart: { finding: AuditProblem | null; writeError: unknown }
  /** Each check() re-derives the log through its durable head, in the thread; stop() ends the thread. */
  selfCheck: SelfCheckThread
  /**
   * The seal verifying keys as read at start (null: none configured), which the self-check uses and the live
   * verification (GET /v1/audit/verify) uses too: read once, so a key file changed or removed under a running gateway
   * is not a failure per request, and both checks agree on the keys.
   */
  keys: SealKeySource | null
  selfCheckEveryMs: number
  tamperResponse: TamperResponse
  forensicsDir: string
}

/**
 * `from`: where the self-check starts — the log's start by default; on a restart from a snapshot, the snapshot's LSN
 * and chain head (which the restore compared with the log), so the check at start re-derives only the records after
 * it rather than the whole log. Everything before it is for `egress audit verify`. The last seal record at or before
 * it is looked for within SEAL_LOOKBACK_RECORDS, so the next seal's prevSealLsn is checked; beyond that it is left
 * unknown rather than the whole log read at start.
 */
export async function setUpAudit(options: {
  config: AuditConfig
  dataDir: string
  /** The log; its durability (a Wal's), when it says one, is written into the anchors file's lines (anchors-writer.ts). */
  log: SliceableLog & ReadableLog & { readonly durability?: Durability }
  from?: { lsn: number; chainHead: Uint8Array }
  /** A single node (no HA role or lease): its anchors file is checked against the log at start, and the start noted. */
  singleNode?: boolean
}): Promise<AuditSetup> {
  const { config, log } = options
  const keys = await verifyingKeySource(config)
  const signingKeyFile = config.signingKeyFile
  if (signingKeyFile !== undefined && keys !== null && config.publicKeyFile !== undefined) await refuseForeignPublicKey(keys, signingKeyFile, config.publicKeyFile)
  const sealer = signingKeyFile === undefined
    ? null
    : new Sealer({
      signer: await naming('audit.signingKeyFile', () => loadSigningKey(signingKeyFile)),
      everyRecords: config.sealEveryRecords,
      everyMs: config.sealEveryMs,
      lastSeal: findLastSeal(log),
    })
  const anchorEveryMs = config.anchorEveryMs ?? ANCHOR_EVERY_MS_DEFAULT
  const anchorsPath = config.anchorsFile ?? join(options.dataDir, AUDIT_DATA_DIR, ANCHORS_FILE_DEFAULT)
  const writer: AnchorsWriter | undefined = log.durability === undefined ? undefined : { ha: options.singleNode !== true, durability: log.durability }
  const anchors = sealer === null || anchorEveryMs === 0
    ? null
    : new AnchorWriter({ path: anchorsPath, everyMs: anchorEveryMs, fileBytesMax: config.anchorsFileBytesMax ?? ANCHORS_FILE_BYTES_MAX_DEFAULT, ...(writer === undefined ? {} : { writer }) })
  const atStart = options.singleNode !== true
    ? { finding: null, writeError: null }
    : anchors === null
      ? { finding: null, writeError: noteStartInAnchorsFile(anchorsPath, log, writer) }
      : checkAnchorsAtStart(anchors.path, log, writer)
  return {
    sealer,
    anchors,
    atStart,
    keys,
    selfCheck: new SelfCheckThread({ log, keys, ...(options.from === undefined ? {} : { from: { ...options.from, previousSealLsn: sealAtOrBefore(log, options.from.lsn) } }) }),
    selfCheckEveryMs: config.selfCheckEveryMs,
    tamperResponse: config.tamperResponse,
    forensicsDir: config.forensicsDir ?? join(options.dataDir, FORENSICS_DIR_DEFAULT),
  }
}

/** How far back from a snapshot's LSN the self-check's start looks for the seal before it (several seal intervals). */
const SEAL_LOOKBACK_RECORDS = 262_144

/** The last seal record at or before `lsn`: its LSN, 0 when the whole log before it holds none, null when not known. */
function sealAtOrBefore(log: ReadableLog, lsn: number): number | null {
  if (lsn < 1) return 0
  const found = findLastSeal(log, { throughLsn: lsn, recordsMax: SEAL_LOOKBACK_RECORDS })
  if (found !== null) return found.recordLsn
  return log.firstLsn <= 1 && lsn <= SEAL_LOOKBACK_RECORDS ? 0 : null
}

/**
 * The keys the self-check verifies seals with, as plain data (it runs in a thread of its own): the public key file (a
 * JWK, or a JWKS with `{ keys }`), else the public half of the signing key; null when neither is configured. The
 * routes' on-demand verification uses the same keys.
 */
export async function verifyingKeySource(config: Pick<AuditConfig, 'publicKeyFile' | 'signingKeyFile'> | undefined): Promise<SealKeySource | null> {
  const publicKeyFile = config?.publicKeyFile
  if (publicKeyFile !== undefined) {
    return naming('audit.publicKeyFile', () => keySourceOfJson(readKeyJson(publicKeyFile), publicKeyFile))
  }
  const signingKeyFile = config?.signingKeyFile
  if (signingKeyFile !== undefined) {
    // Only its public half; the file's mode is checked where the private key is loaded (the Sealer's loadSigningKey).
    return naming('audit.signingKeyFile', () => publicKeySource(readKeyJson(signingKeyFile) as JWK, signingKeyFile))
  }
  return null
}

/**
 * The seal signing key (audit.signingKeyFile), loaded as the Sealer's is (its mode checked); null when none is
 * configured. A standby's gateway, which runs no Sealer, signs its snapshots' seals with it (standby-seal.ts).
 */
export async function configuredSigningKey(config: AuditConfig | undefined): Promise<SealSigningKey | null> {
  const signingKeyFile = config?.signingKeyFile
  return signingKeyFile === undefined ? null : naming('audit.signingKeyFile', () => loadSigningKey(signingKeyFile))
}

/**
 * Refuses a publicKeyFile that does not hold the signing key's public half: every seal this gateway wrote would fail
 * its own self-check (SEAL_SIGNATURE_INVALID: a tamper finding, trading halted at the next start), said nowhere.
 */
async function refuseForeignPublicKey(keys: SealKeySource, signingKeyFile: string, publicKeyFile: string): Promise<void> {
  const signing = await naming('audit.signingKeyFile', () => publicKeySource(readKeyJson(signingKeyFile) as JWK, signingKeyFile))
  if (signing.kind !== 'jwk') return
  const { kid, x } = signing.jwk
  // A key set is searched by kid (a seal's header names one): its key must carry the signing key's kid.
  const found = keys.kind === 'jwk' ? keys.jwk.x === x && (keys.jwk.kid === undefined || keys.jwk.kid === kid) : keys.jwks.keys.some((jwk) => jwk.x === x && jwk.kid === kid)
  if (found) return
  throw new Error(`audit.publicKeyFile: ${publicKeyFile} does not hold the public half of audit.signingKeyFile's key ${String(kid)}: every seal would fail verification; give the public key "egress keygen" wrote with it`)
}

/**
 * Runs `load`; a failure names the config field whose file it was (a missing key file said only ENOENT), and keeps a
 * key file's stable code (KeyFileError), which the CLI leads its line with.
 */
async function naming<T>(field: string, load: () => T | Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const message = `${field}: ${error instanceof Error ? error.message : String(error)}`
    throw error instanceof KeyFileError ? new KeyFileError(error.code, message) : new Error(message, { cause: error })
  }
}
