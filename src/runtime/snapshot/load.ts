/**
 * Loading a snapshot: never trusted on its word. A candidate is used only if its file is intact (digest), its kernel
 * state is an encoding this build reads (its own or an earlier format it upgrades: schema id, then a field-by-field decode) and
 * its chain head equals the log's at its LSN — so a snapshot of another log, of a log that was since rewritten, or of
 * a log that lost its tail is refused. A snapshot with a seal beside it (seal-file.ts) is used only if the seal holds:
 * it verifies (with the keys the caller has; without, its structure) and signs this file's LSN, head and digest.
 * Candidates are tried newest first; every refusal is reported.
 */

import { toHex, type Frame } from '../../../wal/index.ts'
import type { SealKeyResolver } from '../../audit/keys.ts'
import type { KernelState } from '../../kernel/index.ts'
import { CodecError } from './codec-kit.ts'
import { KERNEL_SECTION, SnapshotError, type SnapshotContent, type SnapshotHeader } from './file.ts'
import { checkSnapshotSeal, sealVerdictsOf, unverifiedVerdict, type SealKeyPolicy, type SnapshotSealVerdicts } from './seal-file.ts'
import { kernelStateFromBytes, readableKernelSchemas, readsKernelSchema } from './state-codec.ts'
import type { RejectedSnapshot, SnapshotCandidate, SnapshotStore } from './store.ts'

/** What loading needs of a log: its LSN range and frames (a writable Wal and a read-only log both fit). */
export interface LogView {
  readonly firstLsn: number
  readonly lastLsn: number
  read(fromLsn: number, options?: { toLsn?: number }): Iterable<Frame>
}

export interface LoadedSnapshot {
  file: string
  path: string
  lsn: number
  header: SnapshotHeader
  digest: string
  state: KernelState
  /** Every section's bytes, the kernel's included, for projections restored by name. */
  sections: Map<string, Uint8Array>
  loadMs: number
}

export interface LoadResult {
  loaded: LoadedSnapshot | null
  rejected: RejectedSnapshot[]
}

/** The chain head (hex) at `lsn` as the log holds it, or a SnapshotError when the log cannot vouch for that LSN. */
export function chainHeadAt(log: LogView, lsn: number): string {
  if (lsn > log.lastLsn) throw new SnapshotError('LOG_BEHIND', `snapshot is at LSN ${lsn}, the log ends at ${log.lastLsn}`)
  if (lsn < log.firstLsn) throw new SnapshotError('LOG_COMPACTED', `snapshot is at LSN ${lsn}, the log now starts at ${log.firstLsn}`)
  for (const frame of log.read(lsn, { toLsn: lsn })) return toHex(frame.hash)
  throw new SnapshotError('LOG_BEHIND', `the log has no frame at LSN ${lsn}`)
}

/** What loading is told of the candidates' seals (sealVerdicts); without it, seals are not looked at. */
export interface SealCheck {
  seals?: SnapshotSealVerdicts
}

/**
 * Every candidate's seal, worked out ahead of a (synchronous) load: its signature checked with `keys`, or with none its
 * structure and claims only (a node with no seal key still refuses a seal that is damaged or signs another file).
 */
export async function sealVerdicts(store: SnapshotStore, keys: SealKeyResolver | null, policy?: SealKeyPolicy): Promise<SnapshotSealVerdicts> {
  return sealVerdictsOf(store.candidates().map((candidate) => ({ file: candidate.file, read: store.readSeal(candidate) })), keys, policy)
}

/** Reads and fully verifies one candidate (and its seal, when told of it). Throws SnapshotError. */
export function openSnapshot(store: SnapshotStore, candidate: SnapshotCandidate, log: LogView, options: SealCheck = {}): LoadedSnapshot {
  const started = performance.now()
  const content = readReadable(store, candidate)
  const { header } = content
  checkSnapshotSeal(options.seals, candidate.file, content)
  checkChainHead(log, header)
  const state = decodeChecked(content)
  return { file: candidate.file, path: candidate.path, lsn: header.lsn, header, digest: content.digest, state, sections: content.sections, loadMs: performance.now() - started }
}

/**
 * openSnapshot's checks of the file alone, first part: it reads intact (digest, framing, the LSN its name gives) in an
 * encoding this build reads. Throws SnapshotError. The running gateway's compaction runs these parts in a thread
 * (basis-check.ts), the chain head on the event loop, in openSnapshot's order.
 */
export function readReadable(store: SnapshotStore, candidate: SnapshotCandidate): SnapshotContent {
  const content = store.read(candidate)
  const { header } = content
  if (!readsKernelSchema(header.kernelSchema)) {
    throw new SnapshotError('SCHEMA_MISMATCH', `kernel state schema ${header.kernelSchema}; this build reads ${readableKernelSchemas().join(' and ')} (older or newer build): not used, replay covers it`)
  }
  return content
}

/** openSnapshot's check against the log: its chain head at the snapshot's LSN is the one the header carries. */
export function checkChainHead(log: LogView, header: SnapshotHeader): void {
  const logHead = chainHeadAt(log, header.lsn)
  if (logHead !== header.chainHead) {
    throw new SnapshotError('CHAIN_MISMATCH', `chain head at LSN ${header.lsn} is ${logHead} in the log, ${header.chainHead} in the snapshot`)
  }
}

/** openSnapshot's last check: the kernel section decodes, to a state at the header's LSN. Throws SnapshotError. */
export function decodeChecked(content: SnapshotContent): KernelState {
  const { header } = content
  let state: KernelState
  try {
    state = kernelStateFromBytes(content.sections.get(KERNEL_SECTION) as Uint8Array, { schema: header.kernelSchema })
  } catch (error) {
    const detail = error instanceof CodecError || error instanceof SyntaxError ? error.message : String(error)
    throw new SnapshotError('STATE_INVALID', `kernel state does not decode: ${detail}`)
  }
  if (state.lastLsn !== header.lsn) throw new SnapshotError('STATE_INVALID', `kernel state is at LSN ${state.lastLsn}, the header says ${header.lsn}`)
  return state
}

/**
 * Whether `candidate` makes a new snapshot at its LSN unnecessary: its file intact, in an encoding this build reads,
 * and the log's chain head at its LSN the one it carries. An intact file of a later build (SCHEMA_MISMATCH, after a
 * rollback) or of another log (CHAIN_MISMATCH) is never started from: taken for current, no usable snapshot was ever
 * written at that LSN (specs/runtime/snapshot/unusable-newest.test.ts). Nor is one whose seal beside it does not hold
 * (read without a key here: damaged, or signing another digest, LSN or head), which a start refuses (SEAL_INVALID):
 * it is replaced, its seal with it. Its state is not decoded: the header decides.
 */
export function isUsableAt(store: SnapshotStore, candidate: SnapshotCandidate, log: LogView): boolean {
  const intact = store.intactFile(candidate)
  if (intact === null || !readsKernelSchema(intact.header.kernelSchema)) return false
  const { header } = intact
  try {
    // A seal beside it that does not hold (read without a key: its structure and claims) refuses it at a start.
    const verdict = unverifiedVerdict(store.readSeal(candidate))
    if (verdict !== undefined) checkSnapshotSeal(new Map([[candidate.file, verdict]]), candidate.file, intact)
    return chainHeadAt(log, header.lsn) === header.chainHead
  } catch {
    return false
  }
}

/** The newest snapshot that passes every check (optionally at or below `lsnMax`), and the ones that did not. */
export function loadNewestValid(store: SnapshotStore, log: LogView, options: { lsnMax?: number } & SealCheck = {}): LoadResult {
  const rejected: RejectedSnapshot[] = []
  const seals = options.seals === undefined ? {} : { seals: options.seals }
  for (const candidate of store.candidates()) {
    if (options.lsnMax !== undefined && candidate.lsn > options.lsnMax) continue
    try {
      return { loaded: openSnapshot(store, candidate, log, seals), rejected }
    } catch (error) {
      rejected.push(rejection(candidate.file, error))
    }
  }
  return { loaded: null, rejected }
}

export function rejection(file: string, error: unknown): RejectedSnapshot {
  if (error instanceof SnapshotError) return { file, code: error.code, message: error.message }
  return { file, code: 'UNREADABLE', message: error instanceof Error ? error.message : String(error) }
}

export function describeRejection(rejected: RejectedSnapshot): string {
  return `snapshot ${rejected.file} not used: ${rejected.code}: ${rejected.message}`
}
