/**
 * audit/ — tamper evidence for the log (DESIGN §7): seals (the chain head signed with Ed25519 as a JWS and appended as
 * a record), independent verification of a log directory (CRCs, the chain re-derived with the reference hash, seals,
 * external anchors), the runtime self-check, and the forensics bundle and tamper record written when something is
 * found. Reads logs itself (layout.ts) rather than through the writer's reader, so one bug cannot hide in both.
 */

export { AUDIT_PROBLEM_CODES, describeProblem, type AuditProblem, type AuditProblemCode } from './codes.ts'
export {
  AUDIT_RECORD_TYPE_MIN, AUDIT_SEAL, AUDIT_TAMPER_DETECTED, TAMPER_RESPONSES, decodeSealRecord, decodeTamperRecord,
  isAuditRecordType, sealRecord, tamperRecord, type SealClaims, type TamperFinding, type TamperResponse,
} from './records.ts'
export {
  KeyFileError, keyResolverFromJwk, keyResolverFromJwks, keyResolverOf, loadKeyResolver, loadKeySource, loadSigningKey, publicKeySource,
  type SealKeyResolver, type SealKeySource, type SealSigningKey,
} from './keys.ts'
export {
  KeyFileExistsError, KeyPathNotAFileError, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, generateSealKeyPair, jwkFileText, writeKeyFileDurably, type SealKeyPair,
} from './key-pair.ts'
export { SEAL_JWS_TYP, readSealUnverified, signSeal, verifySeal, type VerifiedSeal } from './seal.ts'
export {
  SNAPSHOT_SEAL_JWS_TYP, readSnapshotSealUnverified, signSnapshotSeal, snapshotSealMismatch, verifySnapshotSeal, type SnapshotSealClaims,
  type VerifiedSnapshotSeal,
} from './snapshot-seal.ts'
export { Sealer, findLastSeal, type LastSeal, type ReadableLog, type SealResult, type SealableLog, type SealerOptions } from './sealer.ts'
export { AnchorChecker, parseAnchors, type Anchor } from './anchors.ts'
export { readAnchorsFile } from './anchors-file.ts'
export { anchorsFileEnd, anchorsFileLines, anchorsFileTail, anchorsFileTailLines, type AnchorsEnd, type AnchorsFileLine } from './anchors-end.ts'
export { anchoredLsnOf, judgeAnchorLines, notJudgedReason, type AnchoredLine, type AnchorsJudgement, type NotJudgedWhy } from './anchors-judged.ts'
export { type AnchorsWriter } from './anchors-writer.ts'
export { fsyncDirectory } from './files.ts'
export { PROBLEMS_MAX, anchorOf, exportAnchor, verifyLogDirectory, type VerifyOptions, type VerifyReport } from './verify.ts'
export { listSegments, scanLogIndependently, type LogScanProgress, type TornTail } from './log-scan.ts'
export { SelfCheck, type CheckableLog, type SelfCheckOptions, type SelfChecker } from './self-check.ts'
export { heldSegmentDamage, type HeldSegments } from './held-segments.ts'
export { SelfCheckThread, type SelfCheckThreadOptions, type SliceableLog } from './self-check-thread.ts'
export { MANIFEST_FILE, collectSeals, writeForensicsBundle, type ForensicsBundle, type ForensicsOptions } from './forensics.ts'
export { reportTamper, type TamperReport, type TamperReportOptions } from './tamper.ts'
export type { SealEntry } from './seal-check.ts'
export { AUDIT_DATA_DIR, ensureLocalSealKey, localSealKeyPaths, withLocalSealKey } from './local-key.ts'
export { ANCHOR_EVERY_MS_DEFAULT, ANCHORS_FILE_BYTES_MAX_DEFAULT, AnchorWriter, anchorLine, type AnchorWriterOptions } from './anchor-writer.ts'
export { ANCHORS_FILE_DEFAULT, FORENSICS_DIR_DEFAULT, setUpAudit, verifyingKeySource, type AuditSetup } from './setup.ts'
