/**
 * Where the projector starts from: the query-model store on disk, the snapshot's back-office section, or a rebuild
 * from the log. Separate from the projector because it runs once, before any event is followed, and decides only
 * which store to open and which ledger to start with; the projector then catches up from there.
 *
 * The section is used when it fits the log (its LSN within the log, the chain head there as it recorded). Its copy
 * of the query model replaces a store that is empty, behind it, or does not match the log — once that copy digests
 * to what the section's header recorded. Without a usable section, a store that does not match the log is reset
 * and rebuilt by the replay.
 *
 * Without a usable section on a compacted log the ledger folds only from the log's first record. A kept store holding
 * rows from before it (the history compaction removed, here alone) is then held: written no further (`storeHeld`),
 * so the partial ledger never overwrites its balances and positions — it stays right as of its LSN, and stats say
 * why it does not move, until a start from a snapshot with a usable section carries it on.
 *
 * A store or a section's copy of an older query model version (store-schema.ts) is never written on as it is: where
 * the log still starts at LSN 1 it is rebuilt from there (the store reset, the section's copy passed over), keeping
 * the lots rule its rows were split by; on a compacted log, where its history lives nowhere else, it is upgraded in
 * place and says through which LSN it holds no true-up fills. A store of a version this build does not know (a later
 * build's) is treated as one that does not match the log.
 */

import { fromHex, hashesEqual, toHex } from '../../wal/index.ts'
import type { Engine } from '../runtime/engine.ts'
import { BackOfficeSectionError, decodeSection, type BackOfficeSection } from './section.ts'
import { openSectionImage, sectionImageIsVersion1 } from './section-model.ts'
import { Store } from './store.ts'
import { QueryModelStoreError } from './store-error.ts'
import { finishStoreReplacement, replaceStoreFile } from './store-file.ts'
import { isKnownModelVersion, QUERY_MODEL_VERSION } from './store-schema.ts'

/** How the projector started: what it does with the store and which section (if any) it starts from. */
export interface ProjectorStart {
  /** The store did not match the log, or was of an older version with the log whole, and was reset (the replay writes it again). */
  rebuilt: boolean
  /** The store was replaced by the section's copy. */
  restoredStore: boolean
  section: BackOfficeSection | null
  /** Why a section given at start was not used, or null. */
  sectionProblem: string | null
  /** The ledger's LedgerState.lotsUntrackedThroughLsn (set on the section's ledger too): the kept store's rule. */
  lotsUntrackedThroughLsn: number
  /** Why the kept store is written no further (LEDGER_INCOMPLETE: it holds history the ledger lacks), or null. */
  storeHeld: string | null
}

/**
 * Opens the store at `storePath` (':memory:' for none on disk) and decides where the ledger starts. `refuseBeyondLog`:
 * a store past the log's end is a witness that the log lost durable records (QUERY_MODEL_BEYOND_LOG), not one to reset
 * — true only where nothing sets a log aside on purpose and the log is written with durability fsync (backOfficeOf).
 */
export function openStartingStore(
  storePath: string,
  engine: Engine,
  sectionBytes: Uint8Array | undefined,
  options: { refuseBeyondLog: boolean } = { refuseBeyondLog: false },
): { store: Store; start: ProjectorStart } {
  const usable = sectionBytes === undefined ? { section: null, problem: null } : usableSection(sectionBytes, engine)
  const logWhole = engine.wal.firstLsn <= 1
  // A replacement by a section's copy that a crash interrupted is finished first (store-file.ts).
  if (storePath !== ':memory:') finishStoreReplacement(storePath)
  let store = Store.open(storePath)
  if (options.refuseBeyondLog && store.lastLsn > engine.wal.lastLsn) {
    const storeLsn = store.lastLsn
    store.close()
    throw QueryModelStoreError.beyondLog(storePath, storeLsn, engine.wal.lastLsn)
  }
  const ofThisLog = isKnownModelVersion(store.modelVersion.version) && storeMatchesLog(store, engine)
  const storeOlder = ofThisLog && store.modelVersion.version < QUERY_MODEL_VERSION
  let rebuilt = false
  let restoredStore = false
  let section = usable.section
  let sectionProblem = usable.problem
  // The lots rule of rows a fold from genesis writes again (an older store, a section's older copy passed over).
  let rebuiltLotsUntracked = 0
  if (section !== null && (store.lastLsn === 0 || store.lastLsn < section.header.lsn || !ofThisLog || storeOlder)) {
    const image = imageCheck(section)
    if (image.problem !== null) {
      section = null
      sectionProblem = image.problem
    } else if (image.version < QUERY_MODEL_VERSION && logWhole) {
      rebuiltLotsUntracked = section.ledger.lotsUntrackedThroughLsn
      sectionProblem = `QUERY_MODEL_VERSION: the section's query model is version ${image.version}, this build's ${QUERY_MODEL_VERSION}: rebuilt from the log`
      section = null
    } else {
      store.close()
      if (storePath === ':memory:') store = openSectionImage(section)
      else {
        replaceStoreFile(storePath, section.image)
        store = Store.open(storePath, { asVersion1: sectionImageIsVersion1(section) })
      }
      store.upgradeInPlace()
      restoredStore = true
    }
  }
  if (section === null) {
    rebuilt = !ofThisLog || (storeOlder && logWhole)
    if (storeOlder && logWhole) rebuiltLotsUntracked = Math.max(rebuiltLotsUntracked, store.lotsUntrackedThroughLsn() ?? store.lastLsn)
    // The rule goes with the emptying: a start that dies replaying, before its first write, must still find it.
    if (rebuilt) store.reset({ lotsUntrackedThroughLsn: rebuiltLotsUntracked })
    else store.upgradeInPlace()
  }
  // A store kept as it is holds true-ups split by the rule of the build that wrote it: the ledger folds on by the same
  // rule through what that build kept no lots for (all of it for a build before lots), or ledger_vs_store breaks.
  // An empty store holds a rule only when a reset for a rebuild kept it (above, or at a start that died since).
  const keptUntracked = restoredStore ? 0 : (store.lotsUntrackedThroughLsn() ?? store.lastLsn)
  const lotsUntrackedThroughLsn = Math.max(section?.ledger.lotsUntrackedThroughLsn ?? 0, keptUntracked, rebuiltLotsUntracked)
  if (section !== null) section.ledger.lotsUntrackedThroughLsn = lotsUntrackedThroughLsn
  const storeHeld = section === null && !rebuilt && !logWhole ? heldStore(store, engine) : null
  return { store, start: { rebuilt, restoredStore, section, sectionProblem, lotsUntrackedThroughLsn, storeHeld } }
}

/**
 * Why a kept store is not to be written by a ledger folded from the log's first record (a compacted log, no section):
 * it holds rows from before that record, so its balances and positions hold history the ledger lacks. Null when it
 * holds none (empty, or written by a ledger that folded from the same record at an earlier start).
 */
function heldStore(store: Store, engine: Engine): string | null {
  const oldest = store.oldestRowLsn()
  const firstLsn = engine.wal.firstLsn
  if (oldest === null || oldest >= firstLsn) return null
  return (
    `LEDGER_INCOMPLETE: the log starts at LSN ${firstLsn} (compacted) and no usable snapshot section is at hand; the query model holds ` +
    `the history before it (rows from LSN ${oldest}) and is kept as it is at LSN ${store.lastLsn}, written no further: a start from a ` +
    'snapshot with a usable back-office section carries it on; moved aside, it is written again from the log\'s first record only, ' +
    'and held again once compaction has passed that record (a back office missing history gives snapshots no section): the way back ' +
    'to whole figures is the history itself (a snapshot with a usable section, or the archived segments restored into the log)'
  )
}

/** The store matches the log when its position exists in the log and the record there has the hash it remembers. */
function storeMatchesLog(store: Store, engine: Engine): boolean {
  if (store.lastLsn === 0) return true
  const wal = engine.wal
  if (store.lastLsn > wal.lastLsn || store.lastLsn < wal.firstLsn) return false
  for (const frame of wal.read(store.lastLsn, { toLsn: store.lastLsn })) {
    return hashesEqual(frame.hash, fromHex(store.lastHash))
  }
  return false
}

/**
 * The version of the section's query-model copy, and null when it has the content digest its header recorded (over
 * the tables of its own version: store-schema.ts), else the problem.
 */
function imageCheck(section: BackOfficeSection): { problem: string | null; version: number } {
  let copy: Store | null = null
  try {
    copy = openSectionImage(section)
    const { version } = copy.modelVersion
    const digest = copy.contentDigest()
    const problem = digest.digest === section.header.queryModel.digest ? null : `STATE_INVALID: the section's query model digests to ${digest.digest}, its header says ${section.header.queryModel.digest}`
    return { problem, version }
  } catch (error) {
    return { problem: `STATE_INVALID: the section's query model does not open: ${error instanceof Error ? error.message : String(error)}`, version: 0 }
  } finally {
    copy?.close()
  }
}

/** The section decoded, if it fits this log: its LSN within the log and the chain head there as it recorded. */
function usableSection(bytes: Uint8Array, engine: Engine): { section: BackOfficeSection | null; problem: string | null } {
  const wal = engine.wal
  try {
    const section = decodeSection(bytes, { upgradeFrom: engine.state })
    const { lsn, chainHead } = section.header
    if (lsn < wal.firstLsn || lsn > wal.lastLsn) throw new BackOfficeSectionError('LOG_MISMATCH', `section at LSN ${lsn}, the log holds ${wal.firstLsn}..${wal.lastLsn}`)
    for (const frame of wal.read(lsn, { toLsn: lsn })) {
      if (toHex(frame.hash) !== chainHead) throw new BackOfficeSectionError('LOG_MISMATCH', `chain head at LSN ${lsn} differs from the section's`)
    }
    return { section, problem: null }
  } catch (error) {
    const code = error instanceof BackOfficeSectionError ? `${error.code}: ` : ''
    return { section: null, problem: `${code}${error instanceof Error ? error.message : String(error)}` }
  }
}
