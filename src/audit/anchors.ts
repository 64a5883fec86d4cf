/**
 * Anchors: chain heads kept outside the gateway (a ticket, a WORM bucket, an email to compliance). An anchor
 * `{ lsn, chainHead, seal? }` says "this log, at this LSN, had this head"; checking a log against anchors catches a
 * rewrite of the whole log (chain recomputed, seals re-signed with a stolen key) and truncation, which no check inside
 * the log can. An anchors file is a JSON array or JSON lines (one anchor per line, so it can be appended to).
 */

import * as v from 'valibot'
import { fromHex, hashesEqual } from '../../wal/index.ts'
import type { AuditProblem } from './codes.ts'
import type { SealKeyResolver } from './keys.ts'
import { verifySeal } from './seal.ts'
import { AUDIT_SEAL, decodeSealRecord } from './records.ts'
import { anchoredLsnOf, sealRecordLsnOf } from './anchors-judged.ts'

/** Anchors read from one file: bounded, so a wrong file is refused rather than loaded whole. */
export const ANCHORS_MAX = 1_000_000

/**
 * Why an anchors file could not be used, naming the file and the line or item: ANCHORS_UNREADABLE (missing, a
 * directory, too large: anchors-file.ts), ANCHORS_INVALID (not UTF-8, not JSON, not anchors, too many).
 */
export class AnchorsFileError extends Error {
  override readonly name = 'AnchorsFileError'
  constructor(
    readonly code: 'ANCHORS_UNREADABLE' | 'ANCHORS_INVALID',
    message: string,
  ) {
    super(`${code}: ${message}`)
  }
}

export const ANCHOR_SCHEMA = v.looseObject({
  lsn: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER)),
  chainHead: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')),
  /** The seal (compact JWS) that signed this head, when the anchor came from one. */
  seal: v.optional(v.string()),
  /**
   * The LSN of that seal's record (the record after `lsn`): checked to hold the seal, and counted as reached. Another
   * value (a string, as a pipeline that quotes numbers writes it) was read as none, and a log cut just after the
   * sealed LSN verified CLEAN against the anchor (review): it is refused, as a malformed lsn is.
   */
  sealRecordLsn: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER))),
})
export type Anchor = v.InferOutput<typeof ANCHOR_SCHEMA>

/** The anchors in `text` (a JSON array or JSON lines); AnchorsFileError naming `source` and the line or item. */
export function parseAnchors(text: string, source: string): Anchor[] {
  const trimmed = text.trim()
  const items: { value: unknown; where: string }[] = []
  if (trimmed.startsWith('[')) {
    const parsed = parseJson(trimmed, source)
    if (!Array.isArray(parsed)) throw invalid(`${source}: expected a JSON array of anchors`)
    parsed.forEach((value, index) => items.push({ value, where: `${source} item ${index}` }))
  } else {
    trimmed.split('\n').forEach((line, index) => {
      const where = `${source} line ${index + 1}`
      if (line.trim() !== '') items.push({ value: parseJson(line, where), where })
    })
  }
  if (items.length > ANCHORS_MAX) throw invalid(`${source}: ${items.length} anchors, at most ${ANCHORS_MAX} are read`)
  return items.map(({ value, where }) => {
    const result = v.safeParse(ANCHOR_SCHEMA, value)
    if (!result.success) throw invalid(`${where}: ${v.getDotPath(result.issues[0]) ?? 'anchor'}: ${result.issues[0].message}`)
    return result.output
  })
}

/** The parser's message names neither the file nor the line: `where` says both. */
function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw invalid(`${where}: not valid JSON (${error instanceof Error ? error.message : String(error)})`)
  }
}

function invalid(message: string): AnchorsFileError {
  return new AnchorsFileError('ANCHORS_INVALID', message)
}

/** Checks anchors as a reader passes their LSNs; what is left at the end lies beyond the log. */
export class AnchorChecker {
  checked = 0
  /** Anchors before the log's first LSN (compacted away): cannot be checked here. */
  skipped = 0
  private readonly sorted: Anchor[]
  private next = 0
  /** The seal each anchor's seal record holds, by that record's LSN (anchors written from a seal name it). */
  private readonly sealRecords = new Map<number, string>()
  /** The last LSN any anchor names: its own, or its seal record's after it. */
  readonly endLsn: number

  constructor(anchors: readonly Anchor[]) {
    this.sorted = [...anchors].sort((a, b) => a.lsn - b.lsn)
    let endLsn = 0
    for (const anchor of anchors) {
      const sealRecordLsn = sealRecordLsnOf(anchor)
      if (sealRecordLsn !== null && anchor.seal !== undefined) this.sealRecords.set(sealRecordLsn, anchor.seal)
      endLsn = Math.max(endLsn, anchoredLsnOf(anchor))
    }
    this.endLsn = endLsn
  }

  /**
   * Call with every record in order: the record at an anchor's seal record LSN must be that seal. Checked by the head
   * alone, the seal record (one after the sealed LSN) could be cut, or replaced by any record chained on, and verify
   * still said CLEAN (review).
   */
  observeRecord(frame: { lsn: number; type: number; version: number; payload: Uint8Array; file: string; offsetBytes: number }): AuditProblem | null {
    const jws = this.sealRecords.get(frame.lsn)
    if (jws === undefined) return null
    const decoded = frame.type === AUDIT_SEAL.type ? decodeSealRecord(frame.version, frame.payload) : null
    if (decoded !== null && decoded.ok && decoded.value.jws === jws) return null
    return { code: 'ANCHOR_MISMATCH', file: frame.file, offsetBytes: frame.offsetBytes, lsn: frame.lsn, detail: `an anchor names LSN ${frame.lsn} as the record of its seal; the log holds another record there` }
  }

  /** Call with every (lsn, head) in order; returns a problem for the first anchor at this LSN that disagrees. */
  observe(lsn: number, head: Uint8Array, where: { file: string; offsetBytes: number }): AuditProblem | null {
    if (this.next >= this.sorted.length) return null
    let problem: AuditProblem | null = null
    while (this.next < this.sorted.length) {
      const anchor = this.sorted[this.next] as Anchor
      if (anchor.lsn > lsn) break
      this.next++
      if (anchor.lsn < lsn) {
        this.skipped++
        continue
      }
      this.checked++
      if (problem === null && !hashesEqual(fromHex(anchor.chainHead), head)) {
        problem = { code: 'ANCHOR_MISMATCH', file: where.file, offsetBytes: where.offsetBytes, lsn, detail: `the anchor says the head at LSN ${lsn} is ${anchor.chainHead}; the log disagrees` }
      }
    }
    return problem
  }

  /** Anchors the log never reached. */
  remaining(): Anchor[] {
    return this.sorted.slice(this.next)
  }

  /** Each anchor's own seal, if it has one, must verify and sign exactly the anchor's LSN and head. */
  static async checkSeals(anchors: readonly Anchor[], keys: SealKeyResolver, where: string): Promise<AuditProblem | null> {
    for (const anchor of anchors) {
      if (anchor.seal === undefined) continue
      const result = await verifySeal(anchor.seal, keys)
      const detail = !result.ok
        ? result.reason
        : result.value.claims.lsn !== anchor.lsn || result.value.claims.chainHead !== anchor.chainHead
          ? `the seal signs LSN ${result.value.claims.lsn} head ${result.value.claims.chainHead}, not the anchor's`
          : null
      if (detail !== null) return { code: 'ANCHOR_SEAL_INVALID', file: where, offsetBytes: 0, lsn: anchor.lsn, detail }
    }
    return null
  }
}
