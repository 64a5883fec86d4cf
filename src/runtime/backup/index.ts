/**
 * backup/ — `egress backup`: a consistent copy of a running leader's data dir over its replication routes
 * (take-backup.ts), written beside the output directory and renamed into place once verified (out-dir.ts).
 */

export { BackupError, type BackupErrorCode } from './backup-error.ts'
export { sourceUrlOf, SOURCE_URL_CHARS_MAX } from './source-url.ts'
export { takeBackup, type BackupOptions, type BackupReport } from './take-backup.ts'
export { BACKUP_MANIFEST_FILE, backupManifestCheck, backupManifestEnd, backupManifestProblem, type BackupManifest, type BackupManifestProblem } from './manifest.ts'
