/**
 * The names in the snapshot directory (store.ts): snapshot files named by LSN, their seals (seal-file.ts), the
 * manifest, and the temp files the durable writes make (store-write.ts).
 */

import { SEAL_SUFFIX } from './seal-file.ts'
import { TEMP_SUFFIX } from './store-write.ts'

export const MANIFEST_NAME = 'MANIFEST.json'
const NAME_PATTERN = /^snapshot-(\d{20})\.snap$/

/** Whether `name` is a temp file writeDurably makes: a snapshot file's, its seal's or the manifest's name, then TEMP_SUFFIX. */
export function isOwnTempName(name: string): boolean {
  if (!name.endsWith(TEMP_SUFFIX)) return false
  const target = name.slice(0, -TEMP_SUFFIX.length)
  return target === MANIFEST_NAME || parseSnapshotFileName(target) !== null || sealedFileOf(target) !== null
}

/** The snapshot file a seal file's name is for (seal-file.ts), or null when `name` is no seal file's. */
export const sealedFileOf = (name: string): string | null => (name.endsWith(SEAL_SUFFIX) && parseSnapshotFileName(name.slice(0, -SEAL_SUFFIX.length)) !== null ? name.slice(0, -SEAL_SUFFIX.length) : null)

export function snapshotFileName(lsn: number): string {
  return `snapshot-${String(lsn).padStart(20, '0')}.snap`
}

/**
 * The LSN a snapshot file's name gives, or null when it is not a snapshot's name. Twenty digits hold numbers no LSN
 * reaches (LSNs are safe integers ≥ 1): a file named beyond 2^53 − 1, or at 0, was never written by egress and is not
 * a snapshot — taken as one, its LSN (rounded by Number) became the chain anchor of the log's open, which refused the
 * start with an invalid-options error.
 */
export function parseSnapshotFileName(name: string): number | null {
  const match = NAME_PATTERN.exec(name)
  if (match === null) return null
  const lsn = Number(match[1])
  return Number.isSafeInteger(lsn) && lsn >= 1 ? lsn : null
}
