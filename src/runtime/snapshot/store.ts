/**
 * The snapshot directory (`<dataDir>/snapshots/`): snapshot files named by LSN, and MANIFEST.json naming the retained
 * ones, newest first.
 *
 * Crash safety: a snapshot is written to a temp file, fsynced, renamed into place and the directory fsynced; only then
 * is the manifest replaced the same way, and only after that are snapshots beyond `keep` deleted. A crash at any point
 * leaves every previously retained snapshot in place. The manifest is a convenience, not a trust anchor: load takes
 * the union of the manifest and the directory listing and verifies each candidate (digest, schema, chain head against
 * the log) newest first, reporting and skipping every one that fails.
 *
 * A failed fsync (a file's or the directory's) throws SyncFailedError (code FSYNC_FAILED): what reached the disk is
 * unknown and a later fsync proves nothing, so a running gateway's log dies of it (snapshotter.ts), as of its own.
 * The directory not opened for its fsync (DirectoryOpenError: EMFILE, say) is no fsync failure: the write fails with
 * it, the snapshot file just renamed into place is removed again (it is not counted as taken, and no later take finds
 * it current while its name is not known durable), and the log goes on.
 */

import { join } from 'node:path'
import { DirectoryOpenError, linkOrCopyFile, makeDirDurable, syncFailuresMarked, type WalIo } from '../../../wal/index.ts'
import { decodeSnapshot, SnapshotError, type SnapshotContent, type SnapshotHeader } from './file.ts'
import { RestoreError } from './restore-error.ts'
import { encodeSealFile, readSealFile, sealFileName, type SealFileRead } from './seal-file.ts'
import { isOwnTempName, MANIFEST_NAME, parseSnapshotFileName, sealedFileOf, snapshotFileName } from './store-names.ts'
import { writeDurably, writeDurablyOffLoop, type OffLoopWrite } from './store-write.ts'

export { MANIFEST_NAME, parseSnapshotFileName, snapshotFileName } from './store-names.ts'
const MANIFEST_FORMAT = 'egress.snapshot-manifest'
/**
 * A manifest lists at most `keep` (≤ 100) snapshots, a few KiB. A larger file is no manifest of ours and is not read
 * (read whole before, whatever its size): the snapshots are then found by listing the directory, as for a lost one.
 */
const MANIFEST_BYTES_MAX = 1024 * 1024
/** A snapshot to write: its bytes, and its seal's JWS when the writer holds the seal key (seal-file.ts). */
export interface SnapshotToWrite {
  bytes: Uint8Array
  digest: string
  header: SnapshotHeader
  seal?: string
}
export const SNAPSHOTS_KEEP_DEFAULT = 3

export interface ManifestEntry {
  file: string
  lsn: number
  digest: string
  bytes: number
  createdAtMs: number
}

export interface RejectedSnapshot {
  file: string
  code: SnapshotError['code']
  message: string
}

export interface SnapshotCandidate {
  file: string
  path: string
  lsn: number
}

export class SnapshotStore {
  readonly dir: string
  readonly keep: number
  private readonly io: WalIo
  private readonly log: ((line: string) => void) | undefined
  /**
   * Files this store wrote or read intact (digest and framing), with their headers and content digests. A snapshot
   * file is never written again in place once renamed there (a new one at the same LSN replaces it by a rename, through
   * write), so the answer holds while it is.
   */
  private readonly intactFiles = new Map<string, { header: SnapshotHeader; digest: string }>()

  /** `log`: where a failed write's temp file that could not be removed is reported (store-write.ts); stderr by default. */
  constructor(dir: string, options: { io: WalIo; keep: number; log?: (line: string) => void }) {
    if (!(Number.isSafeInteger(options.keep) && options.keep >= 1)) throw new RangeError(`snapshots keep must be an integer ≥ 1, got ${options.keep}`)
    this.dir = dir
    this.io = syncFailuresMarked(options.io, { during: 'while writing snapshots' })
    this.keep = options.keep
    this.log = options.log
  }

  /** Writes a snapshot crash-safely, records it in the manifest and prunes beyond `keep`. Returns its manifest entry. */
  write(content: SnapshotToWrite): ManifestEntry {
    const file = this.fileToWrite(content.header)
    try {
      writeDurably(this.io, this.dir, file, content.bytes, this.logOption())
    } catch (error) {
      if (error instanceof DirectoryOpenError) this.removeUndurable(file)
      throw error
    }
    return this.written(file, content)
  }

  /**
   * write, the file's bytes written and fsynced off the event loop in pieces (store-write.ts): a running gateway's
   * snapshot (take.ts). The manifest and the pruning after it are as write's. One at a time per store (the snapshotter
   * takes one at a time; the offline commands hold the data dir's lock).
   */
  async writeOffLoop(content: SnapshotToWrite, options: OffLoopWrite): Promise<ManifestEntry> {
    const file = this.fileToWrite(content.header)
    try {
      await writeDurablyOffLoop(this.io, this.dir, file, content.bytes, { ...options, ...this.logOption() })
    } catch (error) {
      if (error instanceof DirectoryOpenError) this.removeUndurable(file)
      throw error
    }
    // Its seal off the loop too: a file fsync on a busy disk held the loop (an HA leader's lease renewal with it).
    const { seal, ...unsealed } = content
    if (seal !== undefined) await writeDurablyOffLoop(this.io, this.dir, sealFileName(file), encodeSealFile(seal), { ...options, ...this.logOption() })
    return this.written(file, unsealed)
  }

  private logOption(): { log?: (line: string) => void } {
    return this.log === undefined ? {} : { log: this.log }
  }

  /**
   * The snapshots directory made durable (findable after a power cut before a compaction relies on it: durable-dir.ts);
   * the file's name. A seal left by a file this one replaces is removed first (durably): it signs the old file's
   * digest, and beside the new one it would refuse it at the next start.
   */
  private fileToWrite(header: SnapshotHeader): string {
    makeDirDurable(this.io, this.dir, { syncParentOfExisting: true })
    const file = snapshotFileName(header.lsn)
    const sealPath = join(this.dir, sealFileName(file))
    if (this.io.exists(sealPath)) {
      this.io.unlink(sealPath)
      this.io.fsyncDirectory(this.dir)
    }
    return file
  }

  /** The seal beside `candidate`'s file: none, its JWS, or why it is not one (seal-file.ts). */
  readSeal(candidate: SnapshotCandidate): SealFileRead {
    return readSealFile(this.io, join(this.dir, sealFileName(candidate.file)))
  }

  /** After `file` is durable: its seal written, known intact, listed in the manifest, the snapshots beyond `keep` pruned. */
  private written(file: string, content: SnapshotToWrite): ManifestEntry {
    if (content.seal !== undefined) writeDurably(this.io, this.dir, sealFileName(file), encodeSealFile(content.seal), this.logOption())
    this.intactFiles.set(file, { header: content.header, digest: content.digest })
    const entry: ManifestEntry = { file, lsn: content.header.lsn, digest: content.digest, bytes: content.bytes.byteLength, createdAtMs: content.header.createdAtMs }
    const unread = new Set<string>()
    const retained = [entry, ...this.knownEntries(file, unread)].sort((a, b) => b.lsn - a.lsn).slice(0, this.keep)
    this.writeManifest(retained)
    this.prune(new Set([...retained.map((kept) => kept.file), ...unread]))
    return entry
  }

  /** The manifest's entries (newest first), or none with the reason when it is missing or unreadable. */
  readManifest(): { entries: ManifestEntry[]; problem: string | null } {
    const path = join(this.dir, MANIFEST_NAME)
    if (!this.io.exists(path)) return { entries: [], problem: 'no manifest' }
    try {
      const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(this.readFile(path, MANIFEST_BYTES_MAX))) as { format?: unknown; snapshots?: unknown }
      if (value.format !== MANIFEST_FORMAT || !Array.isArray(value.snapshots)) return { entries: [], problem: 'manifest has another format' }
      const entries = (value.snapshots as ManifestEntry[]).filter((entry) => typeof entry?.file === 'string' && parseSnapshotFileName(entry.file) === entry.lsn)
      return { entries: entries.sort((a, b) => b.lsn - a.lsn), problem: null }
    } catch (error) {
      return { entries: [], problem: `manifest unreadable: ${String(error)}` }
    }
  }

  /** Every snapshot file that may be usable: the manifest's and the directory's, newest first, temp files excluded. */
  candidates(): SnapshotCandidate[] {
    return this.named().filter((named) => this.io.exists(named.path)).map(({ file, path, lsn }) => ({ file, path, lsn }))
  }

  /**
   * The snapshots candidates() leaves out as not there to read, newest first: listed in the manifest with no such file
   * (deleted, or left out of a copy), or named in the directory and leading nowhere (a dangling symbolic link). Egress
   * leaves neither (a manifest is written after its files; pruning unlinks only files it no longer lists). No start
   * uses one, and the next snapshot's manifest leaves it out; replay-verify reports each, as a snapshot it cannot read.
   */
  missing(): (SnapshotCandidate & { why: string })[] {
    return this.named()
      .filter((named) => !this.io.exists(named.path))
      .map(({ file, path, lsn, inDir }) => ({ file, path, lsn, why: inDir ? 'named in the directory, leads to no file (a dangling symbolic link?)' : `listed in ${MANIFEST_NAME}, no such file` }))
  }

  /** The manifest's and the directory's snapshot names, newest first, each with whether the directory lists it. */
  private named(): (SnapshotCandidate & { inDir: boolean })[] {
    if (!this.io.exists(this.dir)) return []
    const named = new Map<string, { lsn: number; inDir: boolean }>()
    for (const entry of this.readManifest().entries) named.set(entry.file, { lsn: entry.lsn, inDir: false })
    for (const name of this.listDir()) {
      const lsn = parseSnapshotFileName(name)
      if (lsn !== null) named.set(name, { lsn, inDir: true })
    }
    return [...named].map(([file, { lsn, inDir }]) => ({ file, path: join(this.dir, file), lsn, inDir })).sort((a, b) => b.lsn - a.lsn)
  }

  /** Reads and checks one snapshot's file (digest, framing). Throws SnapshotError. */
  read(candidate: SnapshotCandidate): SnapshotContent & { fileBytes: number } {
    let bytes: Uint8Array
    try {
      bytes = this.readFile(candidate.path)
    } catch (error) {
      throw new SnapshotError('UNREADABLE', `cannot read: ${String(error)}`)
    }
    const content = decodeSnapshot(bytes)
    if (content.header.lsn !== candidate.lsn) throw new SnapshotError('HEADER_INVALID', `file is named for LSN ${candidate.lsn}, header says ${content.header.lsn}`)
    this.intactFiles.set(candidate.file, { header: content.header, digest: content.digest })
    return { ...content, fileBytes: bytes.byteLength }
  }

  /**
   * The header and content digest of `candidate`'s file when it is intact (read once, or known from this store's own
   * write or read of it), else null. A damaged file at the LSN a new snapshot would take does not make that snapshot
   * unnecessary: it is written, replacing it (load.ts isUsableAt says when an intact one does).
   */
  intactFile(candidate: SnapshotCandidate): { header: SnapshotHeader; digest: string } | null {
    const known = this.intactFiles.get(candidate.file)
    if (known !== undefined) return known
    try {
      const { header, digest } = this.read(candidate)
      return { header, digest }
    } catch {
      return null
    }
  }

  /**
   * Builds in `targetDir` (absent or empty) a snapshot directory holding this store's snapshots at LSN ≤ `lsnMax` and a
   * manifest naming them, every file and the directory fsynced: for a standby that keeps its log only up to an LSN and
   * sets aside what it held beyond it, snapshots built from those records included (ha/diverged-prefix.ts). A snapshot
   * file is never written again once renamed into place (a new one is a new file, pruning unlinks), so each is
   * hard-linked, or copied where the filesystem refuses. Returns the entries kept, newest first.
   *
   * A snapshot is named by its kernel state's LSN, but another section may be built at a later one (the back office's
   * covers the records after it that the kernel does not apply: projector.ts captureSection). An intact snapshot
   * `sectionsPast` finds holding records past `lsnMax` is not kept: a start would use its kernel state and refuse
   * that section (LOG_MISMATCH), and the back office of a compacted log lost its history before the log's first LSN.
   * Without it, an older snapshot whose sections are within the prefix is the newest, and a start uses it whole.
   */
  keepUpTo(targetDir: string, lsnMax: number, sectionsPast: (sections: ReadonlyMap<string, Uint8Array>, lsnMax: number) => boolean): ManifestEntry[] {
    const { io } = this
    io.mkdirp(targetDir)
    if (io.readdir(targetDir).length > 0) throw new RangeError(`${targetDir} is not empty; snapshots are kept only into an empty directory`)
    const kept = this.knownEntries('')
      .filter((entry) => entry.lsn <= lsnMax && !this.holdsPast(entry, lsnMax, sectionsPast))
      .sort((a, b) => b.lsn - a.lsn)
    const seals = kept.map((entry) => sealFileName(entry.file)).filter((name) => io.exists(join(this.dir, name)))
    for (const name of [...kept.map((entry) => entry.file), ...seals]) {
      const path = join(targetDir, name)
      linkOrCopyFile(io, join(this.dir, name), path)
      const fd = io.openRead(path)
      try {
        io.fsync(fd)
      } finally {
        io.close(fd)
      }
    }
    new SnapshotStore(targetDir, { io, keep: this.keep }).writeManifest(kept)
    return kept
  }

  /**
   * Whether `entry`'s file is intact and `sectionsPast` finds its sections past `lsnMax`. A file that cannot be read
   * is kept as it was: no start uses any of it (load.ts refuses it, reported).
   */
  private holdsPast(entry: ManifestEntry, lsnMax: number, sectionsPast: (sections: ReadonlyMap<string, Uint8Array>, lsnMax: number) => boolean): boolean {
    let sections: ReadonlyMap<string, Uint8Array>
    try {
      sections = this.read({ file: entry.file, path: join(this.dir, entry.file), lsn: entry.lsn }).sections
    } catch {
      return false
    }
    return sectionsPast(sections, lsnMax)
  }

  /**
   * Removes the temp files of this store's own writes a crash left behind (never a complete snapshot): a snapshot's or
   * the manifest's name with TEMP_SUFFIX. Any other *.tmp in the directory is someone else's and stays (every one went).
   */
  removeTempFiles(): string[] {
    if (!this.io.exists(this.dir)) return []
    const removed = this.listDir().filter(isOwnTempName)
    for (const name of removed) this.io.unlink(join(this.dir, name))
    if (removed.length > 0) this.io.fsyncDirectory(this.dir)
    return removed
  }

  /**
   * Entries for every other snapshot present: the manifest's, plus files a crash left out of it (read and checked
   * here, so a damaged one is never listed). A lost or damaged manifest therefore never makes retention forget files.
   * A file that could not be read at all (UNREADABLE: EMFILE, EACCES) is not known damaged: it goes into `unread`,
   * which the caller does not prune — taken for damaged, a valid snapshot well within `keep` was deleted for a
   * passing EMFILE (review), and with the manifest lost, every older one with it.
   */
  private knownEntries(exceptFile: string, unread?: Set<string>): ManifestEntry[] {
    const listed = new Map(this.readManifest().entries.map((entry) => [entry.file, entry]))
    const entries: ManifestEntry[] = []
    for (const candidate of this.candidates()) {
      if (candidate.file === exceptFile) continue
      const known = listed.get(candidate.file)
      if (known !== undefined) {
        entries.push(known)
        continue
      }
      try {
        const content = this.read(candidate)
        entries.push({ file: candidate.file, lsn: candidate.lsn, digest: content.digest, bytes: content.fileBytes, createdAtMs: content.header.createdAtMs })
      } catch (error) {
        // Damaged: not a usable snapshot, left out of the manifest and pruned. Not read: left as it is.
        if (error instanceof SnapshotError && error.code === 'UNREADABLE') unread?.add(candidate.file)
      }
    }
    return entries
  }

  private writeManifest(entries: ManifestEntry[]): void {
    const body = { format: MANIFEST_FORMAT, version: 1, snapshots: entries }
    writeDurably(this.io, this.dir, MANIFEST_NAME, new TextEncoder().encode(`${JSON.stringify(body, null, 2)}\n`), this.logOption())
  }

  /**
   * Removes a snapshot file renamed into place whose directory fsync could not be made (see the file comment). Its
   * removal is not made durable either: a crash may bring it back, a complete snapshot of durable records (its bytes
   * were fsynced), which a start verifies like any other. A failed unlink leaves it, and the write's error stands.
   */
  private removeUndurable(file: string): void {
    this.intactFiles.delete(file)
    try {
      this.io.unlink(join(this.dir, file))
    } catch {
      // The write fails with the directory's error either way.
    }
  }

  /** Deletes snapshot files not retained, and seals of no retained file; the manifest that drops them is already durable. */
  private prune(retained: Set<string>): void {
    let removed = 0
    for (const name of this.listDir()) {
      const sealed = sealedFileOf(name)
      if (sealed !== null && !retained.has(sealed) && this.unlinkFile(join(this.dir, name))) removed++
      if (parseSnapshotFileName(name) === null || retained.has(name)) continue
      if (!this.unlinkFile(join(this.dir, name))) continue
      this.intactFiles.delete(name)
      removed++
    }
    if (removed > 0) this.io.fsyncDirectory(this.dir)
  }

  /**
   * Unlinks a snapshot file; false for a directory under a snapshot's name, which is no snapshot (a start reports it
   * not used, UNREADABLE) and is left for the operator. Its EISDIR failed every snapshot write after the snapshot and
   * manifest were durable (so each was reported failed), and stopped the pruning there: retention no longer held.
   */
  private unlinkFile(path: string): boolean {
    try {
      this.io.unlink(path)
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') return false
      throw error
    }
  }

  /**
   * The directory's names. One that exists but cannot be listed (a regular file at its path, no permission) is
   * SNAPSHOT_DIR_UNUSABLE naming it, so a start (or an offline command) refuses with a stable code, not a bare ENOTDIR.
   */
  private listDir(): string[] {
    try {
      return this.io.readdir(this.dir)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error)
      const what = code === 'ENOTDIR' ? 'it is not a directory' : `cannot be listed (${code})`
      throw new RestoreError('SNAPSHOT_DIR_UNUSABLE', `the snapshot directory ${this.dir}: ${what}; move it aside or make it a readable directory`, { path: this.dir })
    }
  }

  /** The file whole; a RangeError, reading nothing, when it is larger than `bytesMax`. */
  private readFile(path: string, bytesMax = Number.MAX_SAFE_INTEGER): Uint8Array {
    const fd = this.io.openRead(path)
    try {
      const size = this.io.sizeBytes(fd)
      if (size > bytesMax) throw new RangeError(`${size} bytes, larger than ${bytesMax}`)
      const bytes = new Uint8Array(size)
      let filled = 0
      while (filled < size) {
        const count = this.io.read(fd, bytes.subarray(filled), filled)
        if (count <= 0) break
        filled += count
      }
      return filled === size ? bytes : bytes.subarray(0, filled)
    } finally {
      this.io.close(fd)
    }
  }
}
