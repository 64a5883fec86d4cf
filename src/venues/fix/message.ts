/**
 * A decoded FIX message: BeginString plus its fields in wire order (MsgType first, CheckSum excluded). Values are
 * kept as the exact text received; typed readers live with the code that needs them, so nothing is coerced to a float.
 */

import { FIX_SEQ_NUM_MAX } from './store.ts'
import { Tag } from './tags.ts'

/** One tag=value pair. */
export type FixField = readonly [tag: number, value: string]

/**
 * What is wrong with a message whose frame, CheckSum and header read but one of whose fields breaks a field rule (a tag
 * that is not a number, a tag without a value, a length that is not a number). FIX answers such a message with a
 * session Reject and consumes its MsgSeqNum (FIX session test cases 14.a, 14.d, 14.f): ignoring it as garbled would
 * have the venue resend the same bytes for ever. The offending field is left out of `fields`.
 */
export interface FixMessageDefect {
  /** SessionRejectReason (373) for the Reject. */
  reason: number
  /** The offending tag, when it is a number. */
  refTagId?: number
  text: string
}

export class FixMessage {
  readonly beginString: string
  /** Every field after BodyLength and before CheckSum, in wire order; MsgType is the first. */
  readonly fields: readonly FixField[]
  /** Set when a field broke a field rule: the session rejects the message and never hands it on. */
  readonly defect: FixMessageDefect | undefined
  #firstByTag: Map<number, string> | null = null

  constructor(beginString: string, fields: readonly FixField[], defect?: FixMessageDefect) {
    this.beginString = beginString
    this.fields = fields
    this.defect = defect
  }

  get msgType(): string {
    return this.get(Tag.MsgType) ?? ''
  }

  /**
   * MsgSeqNum, or NaN when absent, not a positive integer, or FIX_SEQ_NUM_MAX or more (the number after it could not be
   * stored): the session layer rejects such messages.
   */
  get seqNum(): number {
    const seqNum = parseSeqNum(this.get(Tag.MsgSeqNum))
    return seqNum < FIX_SEQ_NUM_MAX ? seqNum : Number.NaN
  }

  get possDup(): boolean {
    return this.get(Tag.PossDupFlag) === 'Y'
  }

  /**
   * The first occurrence of `tag` (repeating groups are not needed by egress; their first entry is enough). A tag that
   * must appear once and appears twice makes the message a defect (repeated-tags.ts).
   */
  get(tag: number): string | undefined {
    if (this.#firstByTag === null) {
      const map = new Map<number, string>()
      for (const [t, v] of this.fields) if (!map.has(t)) map.set(t, v)
      this.#firstByTag = map
    }
    return this.#firstByTag.get(tag)
  }

  has(tag: number): boolean {
    return this.get(tag) !== undefined
  }

  /** A compact, human-readable rendering with `|` for SOH, for log records. */
  toString(): string {
    return [`8=${this.beginString}`, ...this.fields.map(([t, v]) => `${t}=${v}`)].join('|')
  }
}

/** Parses a FIX int that must be ≥ 1 (sequence numbers, HeartBtInt > 0); NaN when it is anything else. */
export function parsePositiveInt(text: string | undefined): number {
  if (text === undefined || !/^[1-9][0-9]{0,9}$/.test(text)) return Number.NaN
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : Number.NaN
}

/** A sequence number egress can keep (1..FIX_SEQ_NUM_MAX, e.g. NewSeqNo); NaN otherwise. */
export function parseSeqNum(text: string | undefined): number {
  const seqNum = parsePositiveInt(text)
  return seqNum <= FIX_SEQ_NUM_MAX ? seqNum : Number.NaN
}

/** Parses a FIX int that may be 0 (EndSeqNo = 0 means "infinity"); NaN otherwise. */
export function parseNonNegativeInt(text: string | undefined): number {
  if (text === '0') return 0
  return parsePositiveInt(text)
}
