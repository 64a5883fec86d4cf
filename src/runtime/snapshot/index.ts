/**
 * runtime/snapshot/ — snapshots of the projections at an LSN, so restart replays only the log after it: the kernel
 * state's versioned encoding, the crash-safe snapshot store (files, manifest, retention, verification on load with
 * fallback), taking snapshots from a running engine, compaction below the oldest retained snapshot, and the offline
 * rebuild that replay-verify uses.
 */

export { CodecError } from './codec-kit.ts'
export {
  decodeKernelState, encodeKernelState, KERNEL_STATE_FORMAT_VERSION, KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateBytesSliced,
  kernelStateFromBytes, readableKernelSchemas, readsKernelSchema,
} from './state-codec.ts'
export {
  decodeSnapshot, encodeSnapshot, KERNEL_SECTION, SNAPSHOT_FORMAT_VERSION, SnapshotError, type SnapshotContent, type SnapshotHeader,
  type SnapshotProblemCode,
} from './file.ts'
export {
  MANIFEST_NAME, parseSnapshotFileName, snapshotFileName, SnapshotStore, SNAPSHOTS_KEEP_DEFAULT, type ManifestEntry, type RejectedSnapshot,
  type SnapshotCandidate, type SnapshotToWrite,
} from './store.ts'
export { chainHeadAt, describeRejection, loadNewestValid, openSnapshot, sealVerdicts, type LoadedSnapshot, type LoadResult, type LogView, type SealCheck } from './load.ts'
export { checkSnapshotSeal, encodeSealFile, readSealFile, sealFileName, SEAL_SUFFIX, unverifiedVerdict, type SealFileRead, type SnapshotSealVerdicts } from './seal-file.ts'
export { takeSnapshot, type SectionFinisher, type SnapshotSealer, type SnapshotSectionSource, type SnapshotTaken, type TakeOptions } from './take.ts'
export { compactLog, type CompactOptions, type CompactResult, type CompactionMode } from './compact.ts'
export { chainAnchorFor, refuseSnapshotBeyondLog, restoreEngine, RestoreError, type RestoreProblemCode, type Restored, type RestoreReport } from './restore.ts'
export {
  defaultSnapshotPolicy, Snapshotter, snapshotPolicyProblem, SnapshotsDisabledError, type SnapshotPolicy, type SnapshotterStats,
} from './snapshotter.ts'
export { rebuildState, type RebuildLog, type RebuildOptions, type RebuildResult } from './rebuild.ts'
export { diffStates } from './diff.ts'
export { compactOffline, logDirOf, snapshotDirOf, snapshotOffline, snapshotOfflineSealed, type OfflineQueryModelOptions, type OfflineSnapshotOptions, type OfflineSnapshotResult } from './offline.ts'
export { refuseStoredQueryModel, storedQueryModelLastLsn } from './stored-query-model.ts'
export { replayVerify, type ReplayVerifyOptions, type ReplayVerifyReport, type SnapshotCheck } from './replay-verify.ts'
export { queryModelOk, STORED_QUERY_MODEL, verifyQueryModel, type QueryModelCheck, type QueryModelReport } from './verify-query-model.ts'
