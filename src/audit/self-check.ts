/**
 * The runtime's self-check: at start and periodically, re-derive the chain from the last verified point to the head
 * from the bytes on disk (the log's reader, CRC-checked), and check every seal passed on the way (structure, signed
 * head, sequence, signature).
 *
 * It hashes with the writer's own function (chainHashInPlace: Bun's native SHA-256), not with the reference
 * implementation (@noble/hashes) that the offline verifiers use (log-scan.ts: audit verify, replay-verify). What the
 * self-check is for is noticing bytes changed on disk, which any correct SHA-256 does; specs/wal/chain.test.ts holds
 * the two implementations equal, and the offline check is where an implementation's own bug would show. The price of
 * the reference hash here was the main thread's: ~10 µs per record, re-derived for every record logged (bench:http's
 * profile at half load: 8.7 s of 45 s, and its slices the largest stalls), against ~1 µs. Cheap when run often: each
 * run reads only what was appended since the previous one. A finding is sticky — once the log is known to be damaged,
 * every later check returns the same finding (the gateway has gone to HALT/CANCEL_ONLY and wants the original, not
 * the symptoms after it).
 */

import { FRAME_HEADER_BYTES, FrameView, GENESIS_HASH, PAYLOAD_BYTES_MAX, WalCorruptionError, chainHashInPlace, hashesEqual, rawFrameBytes, toHex, type Frame } from '../../wal/index.ts'
import type { AuditProblem } from './codes.ts'
import { frameOffset, type WalkedSegment } from './frame-offset.ts'
import { HeadHistory } from './head-history.ts'
import type { SealKeyResolver } from './keys.ts'
import { FRAME_CONTENT_OFFSET, FRAME_PAYLOAD_OFFSET, FRAME_PREFIX_BYTES, HASH_BYTES, SEGMENT_HEADER_BYTES } from './layout.ts'
import { isAuditRecordType } from './records.ts'
import { SealChecker } from './seal-check.ts'

/** What the self-check reads of the live log; `Wal` satisfies it. */
export interface CheckableLog {
  readonly dir: string
  readonly firstLsn: number
  readonly lastLsn: number
  readonly segments: readonly (WalkedSegment & { readonly lastLsn: number; readonly previousHash: Uint8Array })[]
  read(fromLsn: number, options?: { toLsn?: number; verifyChain?: boolean; chunkBytes?: number }): Iterable<Frame>
}

export interface SelfCheckOptions {
  /** Seal verifying keys; null checks seals' heads and sequence but not their signatures. */
  keys: SealKeyResolver | null
  /**
   * A point already verified (e.g. the sealed head stored with a snapshot); default: the log's start. With
   * `previousSealLsn` (the last seal record at or before it, 0 for none), the next seal's prevSealLsn is checked too.
   */
  from?: { lsn: number; chainHead: Uint8Array; previousSealLsn?: number | null }
  /** Records read per check; bounds the time one periodic check may take. The rest is read by the next one. */
  recordsPerCheckMax?: number
  /**
   * The log reader's largest read. Default: the smallest it allows (one largest frame), for a caller that checks a few
   * records at a time (a larger chunk would be read anew for every check); the self-check thread reads in 4 MiB.
   */
  readChunkBytes?: number
}

/** What runs the self-check, on the event loop (SelfCheck) or in a thread of its own (self-check-thread.ts). */
export interface SelfChecker {
  /** Verifies what was appended since the last check (or some of it: see verifiedThroughLsn); a finding or null. */
  check(): Promise<AuditProblem | null>
  /** The last LSN whose chain head has been re-derived. */
  readonly verifiedThroughLsn: number
  /** Seals whose heads, sequence (and signatures, with keys) were checked. */
  readonly sealsChecked: number
}

export const SELF_CHECK_RECORDS_MAX_DEFAULT = 1_000_000

export class SelfCheck implements SelfChecker {
  private readonly log: CheckableLog
  private readonly seals: SealChecker
  private readonly heads = new HeadHistory()
  private readonly recordsMax: number
  private readonly chunkBytes: number
  private verifiedLsn: number
  private head: Uint8Array
  private finding: AuditProblem | null = null
  /** What one frame's hash is taken over, laid out contiguously: [previous head][content header][payload]. */
  private hashInput = new Uint8Array(HASH_BYTES + FRAME_HEADER_BYTES + 1_024)

  constructor(log: CheckableLog, options: SelfCheckOptions) {
    this.log = log
    this.recordsMax = options.recordsPerCheckMax ?? SELF_CHECK_RECORDS_MAX_DEFAULT
    this.chunkBytes = options.readChunkBytes ?? FRAME_HEADER_BYTES + PAYLOAD_BYTES_MAX
    const from = options.from ?? { lsn: log.firstLsn - 1, chainHead: log.segments[0]?.previousHash ?? GENESIS_HASH }
    this.verifiedLsn = from.lsn
    this.head = from.chainHead.slice()
    // The head at `from.lsn` is known, so a seal that signs that LSN is checked against it (and later ones as read).
    if (from.lsn >= 1) this.heads.push(from.lsn, this.head)
    this.seals = new SealChecker({ keys: options.keys, headsFromLsn: Math.max(1, from.lsn), previousSealLsn: from.lsn < 1 ? 0 : (from.previousSealLsn ?? null) })
  }

  /** The last LSN whose chain head the self-check has re-derived. */
  get verifiedThroughLsn(): number {
    return this.verifiedLsn
  }

  /** The chain head at verifiedThroughLsn (a copy): where a check started anew (another thread) picks up. */
  get verifiedHead(): Uint8Array {
    return this.head.slice()
  }

  get sealsChecked(): number {
    return this.seals.checked
  }

  /** The LSN of the last seal record read (0: none since the log's start; null: unknown, none read since `from`). */
  get previousSealLsn(): number | null {
    return this.seals.previousSealLsn
  }

  /**
   * Once the check has reached `lsn`: does the head it re-derived from the disk equal `head`, the head the writer
   * itself computed there? A rewrite of records the check had not reached, with CRCs and the whole chain recomputed
   * after it, passes every check on the bytes alone until a seal signs a later head, and the records after the last
   * seal never get one; the writer's head (kept in memory, never read back) is the witness. Null when it agrees or
   * the check is not at `lsn`; a disagreement is a finding, sticky like the others.
   */
  expectHead(lsn: number, head: Uint8Array): AuditProblem | null {
    if (this.finding !== null) return this.finding
    if (this.verifiedLsn !== lsn || hashesEqual(this.head, head)) return null
    this.finding = {
      code: 'CHAIN_BREAK', ...this.locate(lsn), lsn,
      detail: `the chain re-derived from the disk reaches head ${toHex(this.head)} at LSN ${lsn}, but the writer's head there is ${toHex(head)}: records at or before it were rewritten with their chain recomputed`,
    }
    return this.finding
  }

  /** Verifies what was appended since the last check; returns a finding or null. */
  async check(): Promise<AuditProblem | null> {
    if (this.finding !== null) return this.finding
    const to = Math.min(this.log.lastLsn, this.verifiedLsn + this.recordsMax)
    const structural = to > this.verifiedLsn ? this.readAndCheck(to) : null
    // Signatures of the seals passed before a structural finding are still checked: the earliest finding wins.
    const settled = await this.seals.settle()
    const signature = settled === null ? null : { ...settled, ...this.locate(settled.lsn) }
    this.finding = signature !== null && (structural === null || signature.lsn < structural.lsn) ? signature : structural
    return this.finding
  }

  private readAndCheck(toLsn: number): AuditProblem | null {
    const fromLsn = this.verifiedLsn + 1
    try {
      for (const frame of this.log.read(fromLsn, { toLsn, verifyChain: false, chunkBytes: this.chunkBytes })) {
        const computed = this.chainHashOf(frame)
        if (!hashesEqual(computed, frame.hash)) {
          return { code: 'CHAIN_BREAK', ...this.locate(frame.lsn), lsn: frame.lsn, detail: `the stored hash ${toHex(frame.hash)} does not follow from the previous head (recomputed ${toHex(computed)})` }
        }
        this.head = computed
        this.verifiedLsn = frame.lsn
        this.heads.push(frame.lsn, computed)
        if (isAuditRecordType(frame.type)) {
          const problem = this.seals.observe({ lsn: frame.lsn, epoch: frame.epoch, type: frame.type, version: frame.version, payload: frame.payload, file: '', offsetBytes: 0 }, this.heads)
          if (problem !== null) return { ...problem, ...this.locate(frame.lsn) }
        }
      }
    } catch (error) {
      if (!(error instanceof WalCorruptionError)) throw error
      return { code: error.code, file: error.location.file, offsetBytes: error.location.offsetBytes, lsn: error.location.lsn, detail: error.message }
    }
    if (this.verifiedLsn < toLsn) {
      return { code: 'FRAME_CORRUPT', ...this.locate(this.verifiedLsn + 1), lsn: this.verifiedLsn + 1, detail: `the log ended at LSN ${this.verifiedLsn} while reading to ${toLsn}` }
    }
    return null
  }

  /**
   * SHA-256(head ‖ the frame's content header ‖ its payload) over the bytes as read (the header as stored: its version
   * field carries the append flag a decoded frame's version leaves out): the frame's hash as it must be, from the head
   * before it.
   */
  private chainHashOf(frame: Frame): Uint8Array {
    // A read frame is a view into its read buffer (wal/frame-check.ts): one subarray of it, not the payload's and hash's.
    const content = frame instanceof FrameView
      ? frame.bytes.subarray(frame.payloadAt - (FRAME_PAYLOAD_OFFSET - FRAME_CONTENT_OFFSET), frame.payloadEnd)
      : rawFrameBytes(frame).subarray(FRAME_CONTENT_OFFSET)
    const inputBytes = HASH_BYTES + content.byteLength
    if (this.hashInput.byteLength < inputBytes) this.hashInput = new Uint8Array(inputBytes)
    this.hashInput.set(this.head, 0)
    this.hashInput.set(content, HASH_BYTES)
    const computed = new Uint8Array(HASH_BYTES)
    chainHashInPlace(this.hashInput.subarray(0, inputBytes), computed)
    return computed
  }

  /** The file and byte offset of `lsn`, found by walking frame lengths in its segment (only when reporting). */
  private locate(lsn: number): { file: string; offsetBytes: number } {
    const segment = this.log.segments.find((candidate) => candidate.firstLsn <= lsn && lsn <= candidate.lastLsn)
    if (segment === undefined) return { file: this.log.dir, offsetBytes: 0 }
    return { file: segment.path, offsetBytes: frameOffset(segment, lsn) }
  }
}
