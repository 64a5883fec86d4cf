/**
 * `egress audit verify` of a data directory's snapshots (DESIGN §3: "Verification of the chain restarts from the sealed
 * head stored with the snapshot"). Each snapshot with a seal beside it (runtime/snapshot/seal-file.ts): the seal
 * verifies (with the keys given; without, it is read as it is and said so), its file is intact and is the one the seal
 * signs (content digest, LSN, head in its header), and the log's chain head at its LSN — re-derived by the scan, or,
 * for a compacted log, the chain base its first segment's header carries — is the signed one. So a compacted log's
 * base, which the scan otherwise takes on the header's word, and a snapshot's state edited with its digest recomputed
 * are both findings. A snapshot with no seal (an older build's, a node with no key) is counted unsealed, not a problem,
 * and never vouches for the base.
 */

import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { hashesEqual, fromHex, nodeIo, toHex } from '../../wal/index.ts'
import { SnapshotError } from '../runtime/snapshot/file.ts'
import { readSealFile, sealFileName } from '../runtime/snapshot/seal-file.ts'
import { parseSnapshotFileName, SnapshotStore } from '../runtime/snapshot/store.ts'
import type { AuditProblem } from './codes.ts'
import type { SealKeyResolver } from './keys.ts'
import { readSnapshotSealUnverified, snapshotSealMismatch, verifySnapshotSeal } from './snapshot-seal.ts'

export interface SnapshotSealsReport {
  dir: string
  /** Snapshot files in the directory. */
  files: number
  /** Snapshots whose seal holds (signature when keys were given, file and digest always). */
  sealed: number
  /** Snapshot files with no seal beside them: not a problem, but nothing vouches for their state. */
  unsealed: string[]
  signaturesChecked: boolean
  /** Sealed snapshots whose signed head was compared with the log's (the others lie outside it). */
  headsChecked: number
  /**
   * For a compacted log (first LSN > 1): the sealed snapshot (signature checked) the chain from the base was checked
   * against; null when none was, so the base rests on the first segment header alone.
   */
  baseCheckedBy: string | null
}

/** A sealed snapshot whose head is still to be compared with the log's. */
interface SealedHead {
  file: string
  chainHead: string
}

export class SnapshotSealsCheck {
  readonly report: SnapshotSealsReport
  private readonly heads = new Map<number, SealedHead>()
  private readonly compared: { lsn: number; file: string }[] = []
  private readonly keys: SealKeyResolver | null
  private readonly note: (problem: AuditProblem) => void

  private constructor(dir: string, keys: SealKeyResolver | null, note: (problem: AuditProblem) => void) {
    this.keys = keys
    this.note = note
    this.report = { dir, files: 0, sealed: 0, unsealed: [], signaturesChecked: keys !== null, headsChecked: 0, baseCheckedBy: null }
  }

  /** Reads every snapshot's seal in `dir` and checks it against its file; the heads are checked as the scan passes. */
  static async read(dir: string, keys: SealKeyResolver | null, note: (problem: AuditProblem) => void): Promise<SnapshotSealsCheck> {
    const check = new SnapshotSealsCheck(dir, keys, note)
    const names = existsSync(dir) ? readdirSync(dir) : []
    const files = names.map((name) => ({ name, lsn: parseSnapshotFileName(name) })).filter((entry): entry is { name: string; lsn: number } => entry.lsn !== null)
    check.report.files = files.length
    for (const file of files.sort((a, b) => a.lsn - b.lsn)) await check.readOne(file.name, file.lsn)
    return check
  }

  private async readOne(file: string, lsn: number): Promise<void> {
    const path = join(this.report.dir, file)
    const problem = (code: AuditProblem['code'], detail: string): void => this.note({ code, file: path, offsetBytes: 0, lsn, detail })
    const read = readSealFile(nodeIo, join(this.report.dir, sealFileName(file)))
    if (read.kind === 'absent') {
      this.report.unsealed.push(file)
      return
    }
    if (read.kind === 'damaged') return problem('SNAPSHOT_SEAL_INVALID', `its seal ${sealFileName(file)}: ${read.reason}`)
    const verified = this.keys === null ? readSnapshotSealUnverified(read.jws) : await verifySnapshotSeal(read.jws, this.keys)
    if (!verified.ok) return problem('SNAPSHOT_SEAL_INVALID', `its seal ${sealFileName(file)}: ${verified.reason}`)
    let content
    try {
      // Through the store's reader: its open does not block on a FIFO under the file's name (wal/io.ts openRead).
      content = new SnapshotStore(this.report.dir, { io: nodeIo, keep: 100 }).read({ file, path, lsn })
    } catch (error) {
      const why = error instanceof SnapshotError ? `${error.code}: ${error.message}` : String(error)
      return problem('SNAPSHOT_SEAL_MISMATCH', `the sealed snapshot is not intact (${why}): edited or damaged after it was sealed`)
    }
    const mismatch = snapshotSealMismatch(verified.value.claims, { lsn, chainHead: content.header.chainHead, digest: content.digest })
    if (mismatch !== null) return problem('SNAPSHOT_SEAL_MISMATCH', mismatch)
    this.report.sealed++
    this.heads.set(lsn, { file, chainHead: verified.value.claims.chainHead })
  }

  /** The log's chain head at `lsn` (the base, or a frame's, in LSN order): compared with a seal signing that LSN. */
  observeHead(lsn: number, head: Uint8Array, logFile: string): void {
    const sealed = this.heads.get(lsn)
    if (sealed === undefined) return
    this.heads.delete(lsn)
    this.compared.push({ lsn, file: sealed.file })
    this.report.headsChecked++
    if (hashesEqual(head, fromHex(sealed.chainHead))) return
    this.note({
      code: 'SNAPSHOT_SEAL_HEAD_MISMATCH', file: logFile, offsetBytes: 0, lsn,
      detail: `snapshot ${sealed.file} is sealed at chain head ${sealed.chainHead}, the log's head at LSN ${lsn} is ${toHex(head)}: the log's chain base or records up to it were rewritten`,
    })
  }

  /** After the scan: which sealed snapshot, if any, vouched for a compacted log's base (`firstLsn` > 1). */
  finish(firstLsn: number): SnapshotSealsReport {
    // Compared in LSN order: the first is the oldest, the one nearest the base.
    const oldest = this.compared[0]
    if (firstLsn > 1 && this.keys !== null && oldest !== undefined) this.report.baseCheckedBy = oldest.file
    return this.report
  }
}
