/**
 * Checking seal records as a reader passes them, shared by the offline verifier and the runtime self-check. For each
 * seal: the record parses; the claims name an LSN before the seal's own record whose chain head (as the reader
 * recomputed it) equals the signed head; the signed epoch is the carrying frame's; prevSealLsn names the previous seal
 * record (so removing a seal is visible even if someone recomputed the whole chain); and the signature verifies.
 * Signatures are checked asynchronously in batches (`settle`), the rest as the frame passes.
 */

import { hashesEqual, fromHex, toHex } from '../../wal/index.ts'
import type { AuditProblem, AuditProblemCode } from './codes.ts'
import type { HeadHistory } from './head-history.ts'
import type { SealKeyResolver } from './keys.ts'
import { AUDIT_SEAL, decodeSealRecord, type SealClaims } from './records.ts'
import { readSealUnverified, verifySeal } from './seal.ts'

/** A seal as found in a log. */
export interface SealEntry {
  /** The LSN of the record that carries the seal. */
  recordLsn: number
  file: string
  offsetBytes: number
  claims: SealClaims
  kid: string | undefined
  jws: string
}

export interface SealFrame {
  lsn: number
  epoch: number
  type: number
  version: number
  payload: Uint8Array
  file: string
  offsetBytes: number
}


export class SealChecker {
  /** Seals whose structure and head were checked (and, with keys, whose signature was). */
  checked = 0
  /**
   * Seals whose signed LSN lies before `headsFromLsn` (compacted away, or before the point a check started from):
   * signature and sequence checked, head not.
   */
  headUnchecked = 0
  last: SealEntry | null = null
  private readonly keys: SealKeyResolver | null
  /**
   * The previous seal record's LSN; null while unknown (a log that starts after compaction, or a check that starts
   * part-way without being told, before its first seal).
   */
  private previousSealRecordLsn: number | null
  /** The first LSN whose chain head the caller's head history holds: seals signing an earlier one are head-unchecked. */
  private readonly headsFromLsn: number
  private pending: SealEntry[] = []

  constructor(options: { keys: SealKeyResolver | null; headsFromLsn: number; previousSealLsn?: number | null }) {
    this.keys = options.keys
    this.headsFromLsn = options.headsFromLsn
    this.previousSealRecordLsn = options.previousSealLsn !== undefined ? options.previousSealLsn : options.headsFromLsn <= 1 ? 0 : null
  }

  /** The last seal record's LSN (0: none since the log's start; null: unknown). */
  get previousSealLsn(): number | null {
    return this.previousSealRecordLsn
  }

  get signaturesChecked(): boolean {
    return this.keys !== null
  }

  /** Checks everything but the signature; returns a problem or null. Call for every seal frame, in LSN order. */
  observe(frame: SealFrame, heads: HeadHistory): AuditProblem | null {
    if (frame.type !== AUDIT_SEAL.type) return null
    const problem = (code: AuditProblemCode, detail: string): AuditProblem => ({ code, file: frame.file, offsetBytes: frame.offsetBytes, lsn: frame.lsn, detail })
    const record = decodeSealRecord(frame.version, frame.payload)
    if (!record.ok) return problem('SEAL_MALFORMED', `seal record: ${record.reason}`)
    const read = readSealUnverified(record.value.jws)
    if (!read.ok) return problem('SEAL_MALFORMED', `seal JWS: ${read.reason}`)
    const { claims, kid } = read.value
    const expectedPrevious = this.previousSealRecordLsn
    this.previousSealRecordLsn = frame.lsn
    const entry: SealEntry = { recordLsn: frame.lsn, file: frame.file, offsetBytes: frame.offsetBytes, claims, kid, jws: record.value.jws }
    this.last = entry
    this.checked++
    if (this.keys !== null) this.pending.push(entry)
    if (claims.lsn >= frame.lsn) return problem('SEAL_LSN_INVALID', `the seal signs LSN ${claims.lsn}, which is not before its own record`)
    if (expectedPrevious !== null && claims.prevSealLsn !== expectedPrevious) {
      return problem('SEAL_SEQUENCE_BROKEN', `prevSealLsn is ${claims.prevSealLsn}, but the previous seal record in the log is at LSN ${expectedPrevious}`)
    }
    if (claims.epoch !== frame.epoch) return problem('SEAL_EPOCH_MISMATCH', `signed epoch ${claims.epoch}, carried by a frame of epoch ${frame.epoch}`)
    if (claims.lsn < this.headsFromLsn) {
      this.headUnchecked++
      return null
    }
    const head = heads.at(claims.lsn)
    if (head === null) return problem('SEAL_LSN_INVALID', `the seal signs LSN ${claims.lsn}, too far behind its record for the verifier's head history`)
    if (!hashesEqual(head, fromHex(claims.chainHead))) {
      return problem('SEAL_HEAD_MISMATCH', `signed head at LSN ${claims.lsn} is ${claims.chainHead}, the log's head there is ${toHex(head)}`)
    }
    return null
  }

  get pendingCount(): number {
    return this.pending.length
  }

  /** Verifies the queued signatures; returns the first failure in LSN order, or null. */
  async settle(): Promise<AuditProblem | null> {
    const keys = this.keys
    if (keys === null || this.pending.length === 0) return null
    const batch = this.pending
    this.pending = []
    const results = await Promise.all(batch.map((entry) => verifySeal(entry.jws, keys)))
    for (let index = 0; index < batch.length; index++) {
      const result = results[index]
      const entry = batch[index] as SealEntry
      if (result !== undefined && !result.ok) {
        return { code: 'SEAL_SIGNATURE_INVALID', file: entry.file, offsetBytes: entry.offsetBytes, lsn: entry.recordLsn, detail: result.reason }
      }
    }
    return null
  }
}
