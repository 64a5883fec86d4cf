/**
 * Which lines of a data directory's anchors file prove that its log lost durable records when the log ends before
 * them — the offline checks' LOG_BEHIND_ANCHOR (`egress replay-verify DIR`, `egress audit verify DIR`). Each line is
 * judged by who wrote it (its own `ha` and `durability`, anchors-writer.ts), never by another line's:
 *
 * - a single node under durability `fsync`: judged — the LSN it names was synced, and nothing a gateway does by design
 *   takes a synced record off a single node's log;
 * - a line that does not say (an older build's, or written by hand): judged as the default deployment, a single node
 *   under fsync (a verifier that passed a log missing acknowledged records because it could not tell would be worse);
 * - a single node under `none`: not judged — nothing was synced, a power loss alone may take that tail;
 * - an HA node, and any line written before the directory last ran as an HA node: not judged — its log follows the
 *   leader's, not its own past (a standby drops a diverged tail, even one anchored before the cluster was formed).
 *
 * Before, the newest line naming a writer decided for the whole file and the log was compared with the highest LSN of
 * any line: a file written under fsync and then run under `none` on a log already cut passed the loss as a note, and
 * an HA node's anchors followed by a single node's line were judged as the single node's.
 */

import { anchorsWriterOf, type AnchorsWriter } from './anchors-writer.ts'

/** An anchors file line as the judgement reads it: its LSN, and what else it may say (a loose line). */
export type AnchoredLine = { readonly lsn: number } & Readonly<Record<string, unknown>>

/** Why a line is not judged: written by an HA node, under durability none, or before the directory's last HA run. */
export type NotJudgedWhy = 'ha' | 'none' | 'before_ha'

export interface AnchorsJudgement<L extends AnchoredLine> {
  /** The judged line naming the highest LSN; null when no line is judged. */
  judged: L | null
  /** The line not judged naming the highest LSN, and why it is not; null when every line is judged. */
  notJudged: { line: L; why: NotJudgedWhy } | null
}

/** The highest LSN a line vouches for: its seal record's when it gives one (the record after the sealed LSN). */
export function anchoredLsnOf(line: AnchoredLine): number {
  return Math.max(line.lsn, sealRecordLsnOf(line) ?? 0)
}

/** A line's `sealRecordLsn` (anchors written from a seal have it), when it is a valid LSN; null otherwise. */
export function sealRecordLsnOf(line: AnchoredLine): number | null {
  const lsn = line['sealRecordLsn']
  return typeof lsn === 'number' && Number.isSafeInteger(lsn) && lsn >= 1 ? lsn : null
}

/** Who wrote `line`, when it says (both members, well-formed); null otherwise. */
export function lineWriterOf(line: AnchoredLine): AnchorsWriter | null {
  const ha = line['ha']
  const durability = line['durability']
  if (typeof ha !== 'boolean' || (durability !== 'fsync' && durability !== 'none')) return null
  return anchorsWriterOf({ ha, durability })
}

/** Judges `lines` (the file's, oldest first: the rotated `.1`'s, then the current one's). */
export function judgeAnchorLines<L extends AnchoredLine>(lines: readonly L[]): AnchorsJudgement<L> {
  const lastHaIndex = lines.findLastIndex((line) => lineWriterOf(line)?.ha === true)
  let judged: L | null = null
  let notJudged: { line: L; why: NotJudgedWhy } | null = null
  lines.forEach((line, index) => {
    const writer = lineWriterOf(line)
    const why: NotJudgedWhy | null = writer?.ha === true ? 'ha' : index < lastHaIndex ? 'before_ha' : writer?.durability === 'none' ? 'none' : null
    const lsn = anchoredLsnOf(line)
    if (why === null) {
      if (judged === null || lsn > anchoredLsnOf(judged)) judged = line
    } else if (notJudged === null || lsn > anchoredLsnOf(notJudged.line)) {
      notJudged = { line, why }
    }
  })
  return { judged, notJudged }
}

/** Why a line beyond the log's end is not a loss, for a note: "written by …". */
export function notJudgedReason(why: NotJudgedWhy): string {
  if (why === 'ha') return 'written by an HA node (a standby drops a diverged tail its old leader anchored), whose start as an HA node does not refuse it (a start as a single node under fsync still does)'
  if (why === 'none') return 'written by a single node under durability none (nothing was synced), whose start under none does not refuse it (a start under fsync still does)'
  return "written before the directory last ran as an HA node (whose log follows the leader's, not its own past)"
}
