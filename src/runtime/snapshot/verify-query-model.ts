/**
 * replay-verify's query-model part: the back office rebuilt from the log alone (from genesis, or from the base
 * snapshot's back-office section on a compacted log) is compared, at their LSNs, with the query model stored in the
 * data directory (`backoffice.sqlite`, read from a private copy — the directory is never written) and with every
 * valid snapshot's back-office section. Content digests per table name what differs. Each is compared over the tables
 * of the query model version that wrote it (src/backoffice/store-schema.ts): a section or stored query model written
 * before true-up fills is compared without them, never failed for lacking them. One that cannot be read, or of a
 * version this build does not know, is `invalid` with the reason, never compared under this build's version.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ReadOnlyLog } from '../../../wal/index.ts'
import {
  BACKOFFICE_SECTION, decodedSectionModelVersion, decodeSection, isKnownModelVersion, QUERY_MODEL_VERSION, QueryModelRebuild, QueryModelStoreError, sectionHeaderOf, Store,
  type BackOfficeSection, type ModelVersion, type QueryModelDigest, type SectionDecodeObserver,
} from '../../backoffice/index.ts'
import type { LoadedSnapshot } from './load.ts'
import { copyStoredQueryModel } from './query-model-copy.ts'

export const STORED_QUERY_MODEL = 'backoffice.sqlite'

export interface QueryModelCheck {
  /** `stored` (DIR/backoffice.sqlite) or the snapshot file whose section it is. */
  source: string
  lsn: number
  status: 'match' | 'mismatch' | 'invalid' | 'not-comparable'
  expectedDigest: string | null
  actualDigest: string | null
  /** Tables whose content differs, with row counts (rebuilt vs compared). */
  differences: string[]
  problem: string | null
}

export interface QueryModelReport {
  /** False when there was nothing to compare (no stored query model, no section). */
  compared: boolean
  base: { kind: 'genesis' | 'section'; lsn: number }
  checks: QueryModelCheck[]
  elapsedMs: number
}

interface Target {
  check: QueryModelCheck
  digest: QueryModelDigest | null
  /** Through which LSN the build that wrote it kept no synthetic lots (backoffice LedgerState.lotsUntrackedThroughLsn). */
  lotsUntrackedThroughLsn: number
  /** The query model version it was written as, and through which LSN it holds no true-up fills (Store.modelVersion). */
  model: ModelVersion
}

/** A snapshot's section decoded, or why it could not be (or its image not opened). */
type DecodedSection = { section: BackOfficeSection } | { error: unknown }

/** decodeSection as this check calls it: every decode told to the caller's observer, if it gave one. */
type Decode = (bytes: Uint8Array) => BackOfficeSection

export interface VerifyQueryModelOptions {
  /** Told of every section decode (replay-verify's option of the same name). */
  onSectionDecoded?: SectionDecodeObserver
}

const NO_MODEL: ModelVersion = { version: QUERY_MODEL_VERSION, trueUpsUntrackedThroughLsn: 0 }

export function verifyQueryModel(
  dir: string, log: ReadOnlyLog, valid: readonly LoadedSnapshot[], base: LoadedSnapshot | null, options: VerifyQueryModelOptions = {},
): QueryModelReport {
  const started = performance.now()
  const { onSectionDecoded } = options
  const decode: Decode = (bytes) => decodeSection(bytes, onSectionDecoded === undefined ? {} : { onDecoded: onSectionDecoded })
  const targets: Target[] = []
  const stored = storedDigest(dir)
  if (stored !== null) targets.push(stored)
  // Each section is decoded once (a decode parses and checks its whole ledger): for its target, and the base's is
  // handed on to the rebuild that starts from it.
  const decoded = new Map<LoadedSnapshot, DecodedSection>()
  for (const loaded of valid) {
    const bytes = loaded.sections.get(BACKOFFICE_SECTION)
    if (bytes === undefined) continue
    const { target, section } = sectionTarget(loaded.file, bytes, decode)
    targets.push(target)
    decoded.set(loaded, section)
  }
  const report: QueryModelReport = { compared: targets.length > 0, base: { kind: 'genesis', lsn: 0 }, checks: targets.map((target) => target.check), elapsedMs: 0 }
  if (targets.length === 0) return report
  // From genesis, the rebuild repeats the rule the data was written by: no lots through the LSN the newest of them kept
  // none through (the back office's replay base does the same: projector.ts replayBaseLedger).
  // Likewise it leaves out the true-up fills that data of this version holds none of (an upgrade in place).
  const trueUpsUntracked = Math.max(0, ...targets.filter((target) => target.model.version === QUERY_MODEL_VERSION).map((target) => target.model.trueUpsUntrackedThroughLsn))
  const rebuild = startRebuild(log, base, decoded, report, decode, { lots: Math.max(0, ...targets.map((target) => target.lotsUntrackedThroughLsn)), trueUps: trueUpsUntracked })
  if (rebuild === null) {
    for (const target of targets) if (target.check.status !== 'invalid') notComparable(target.check, `the log starts at LSN ${log.firstLsn} and the base snapshot has no back-office section`)
    report.elapsedMs = performance.now() - started
    return report
  }
  try {
    const pending = new Map<number, Target[]>()
    for (const target of targets) {
      if (target.digest === null) continue
      if (target.check.lsn < rebuild.lsn) notComparable(target.check, `at LSN ${target.check.lsn}, below the rebuild's start (${rebuild.lsn})`)
      else if (target.check.lsn > log.lastLsn) mismatch(target.check, `at LSN ${target.check.lsn}, ahead of the log (ends at ${log.lastLsn})`)
      else pending.set(target.check.lsn, [...(pending.get(target.check.lsn) ?? []), target])
    }
    const compareAt = (): void => {
      const due = pending.get(rebuild.lsn)
      if (due === undefined) return
      const rebuilt = new Map<number, QueryModelDigest>()
      for (const target of due) {
        const { version } = target.model
        const digest = rebuilt.get(version) ?? rebuild.digest(version)
        rebuilt.set(version, digest)
        compare(target.check, digest, target.digest as QueryModelDigest)
      }
    }
    compareAt()
    const last = Math.max(0, ...pending.keys())
    if (last > rebuild.lsn) {
      for (const frame of log.read(rebuild.lsn + 1, { toLsn: last })) {
        rebuild.apply(frame)
        compareAt()
      }
    }
  } finally {
    rebuild.close()
  }
  report.elapsedMs = performance.now() - started
  return report
}

export function queryModelOk(report: QueryModelReport): boolean {
  return report.checks.every((check) => check.status === 'match' || check.status === 'not-comparable')
}

/**
 * From genesis on a whole log, else from the base snapshot's section as decoded for its target (a base not among the
 * valid snapshots is decoded here): one that could not be decoded or opened throws why, as decoding it again would.
 */
function startRebuild(
  log: ReadOnlyLog, base: LoadedSnapshot | null, decoded: ReadonlyMap<LoadedSnapshot, DecodedSection>, report: QueryModelReport, decode: Decode,
  untracked: { lots: number; trueUps: number },
): QueryModelRebuild | null {
  if (log.firstLsn <= 1) return QueryModelRebuild.fromGenesis(untracked.lots, untracked.trueUps)
  const bytes = base?.sections.get(BACKOFFICE_SECTION)
  if (base === null || bytes === undefined) return null
  const section = decoded.get(base) ?? { section: decode(bytes) }
  if ('error' in section) throw section.error
  const rebuild = QueryModelRebuild.fromSection(section.section, untracked.trueUps)
  report.base = { kind: 'section', lsn: rebuild.lsn }
  return rebuild
}

/**
 * A snapshot's section as a target: its header's digest, compared over the tables of its image's query model version,
 * and the lots rule of its ledger (through which LSN it kept no lots: a section before lots, version 1 or 2, decodes
 * with none through its LSN: section.ts upgradeToLots). A section whose header, state or image cannot be read, or whose
 * image is of a version this build does not know (a later build's), is `invalid` with the reason: there is no version
 * to compare its digest under, and comparing it under this build's would call it a `mismatch` (or a match) it is not.
 * Returns the section decoded (or why not) too, for the rebuild when it is the base.
 */
function sectionTarget(file: string, bytes: Uint8Array, decode: Decode): { target: Target; section: DecodedSection } {
  let lsn = 0
  try {
    lsn = sectionHeaderOf(bytes).lsn
    const section = decode(bytes)
    const model = decodedSectionModelVersion(section)
    const target = { check: blank(file, lsn), digest: section.header.queryModel, lotsUntrackedThroughLsn: section.ledger.lotsUntrackedThroughLsn, model }
    return { target, section: { section } }
  } catch (error) {
    const target: Target = { check: { ...blank(file, lsn), status: 'invalid', problem: message(error) }, digest: null, lotsUntrackedThroughLsn: 0, model: NO_MODEL }
    return { target, section: { error } }
  }
}

/** The store in `copy`; refused as QUERY_MODEL_UNREADABLE naming the data dir's `path`, not the scratch copy's. */
function openCopy(path: string, copy: string): Store {
  try {
    return Store.open(copy)
  } catch (error) {
    if (error instanceof QueryModelStoreError) throw QueryModelStoreError.unreadable(path, error.cause)
    throw error
  }
}

/** The stored query model's digest, read from a copy (its WAL too) so the directory is never touched. */
function storedDigest(dir: string): Target | null {
  const path = join(dir, STORED_QUERY_MODEL)
  if (!existsSync(path)) return null
  const scratch = mkdtempSync(join(tmpdir(), 'egress-verify-'))
  try {
    const store = openCopy(path, copyStoredQueryModel(path, scratch, STORED_QUERY_MODEL))
    try {
      const { version } = store.modelVersion
      // A later build's: no tables of its version to digest (it is rebuilt on start: projector-start.ts).
      if (!isKnownModelVersion(version)) {
        const problem = `QUERY_MODEL_VERSION: the stored query model is version ${version}, this build knows 1 to ${QUERY_MODEL_VERSION}`
        return { check: { ...blank('stored', store.lastLsn), status: 'invalid', problem }, digest: null, lotsUntrackedThroughLsn: 0, model: NO_MODEL }
      }
      const digest = store.contentDigest()
      if (digest.lastLsn === 0) return { check: { ...blank('stored', 0), status: 'not-comparable', problem: 'the stored query model is empty' }, digest: null, lotsUntrackedThroughLsn: 0, model: NO_MODEL }
      return { check: blank('stored', digest.lastLsn), digest, lotsUntrackedThroughLsn: store.lotsUntrackedThroughLsn() ?? digest.lastLsn, model: store.modelVersion }
    } finally {
      store.close()
    }
  } catch (error) {
    return { check: { ...blank('stored', 0), status: 'invalid', problem: `unreadable: ${message(error)}` }, digest: null, lotsUntrackedThroughLsn: 0, model: NO_MODEL }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

function compare(check: QueryModelCheck, rebuilt: QueryModelDigest, found: QueryModelDigest): void {
  check.expectedDigest = rebuilt.digest
  check.actualDigest = found.digest
  if (rebuilt.digest === found.digest) {
    check.status = 'match'
    return
  }
  check.status = 'mismatch'
  if (rebuilt.lastHash !== found.lastHash) check.differences.push(`position: chain hash at LSN ${check.lsn} is ${rebuilt.lastHash} in the log, ${found.lastHash} recorded`)
  for (const [table, rows] of Object.entries(rebuilt.tables)) {
    const other = found.tables[table]
    if (other?.sha256 === rows.sha256) continue
    check.differences.push(`${table}: ${rows.rows} rows rebuilt, ${other?.rows ?? 0} found, content differs`)
  }
}

function blank(source: string, lsn: number): QueryModelCheck {
  return { source, lsn, status: 'not-comparable', expectedDigest: null, actualDigest: null, differences: [], problem: null }
}

function notComparable(check: QueryModelCheck, problem: string): void {
  check.status = 'not-comparable'
  check.problem = problem
}

function mismatch(check: QueryModelCheck, problem: string): void {
  check.status = 'mismatch'
  check.problem = problem
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
