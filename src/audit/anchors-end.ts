/**
 * The highest LSN an anchors file vouches for: evidence of how far the log reached that outlives the log's tail. Every
 * line the gateway writes names an LSN that was durable when it was written — a periodic or shutdown anchor names a
 * seal appended (and fdatasynced) before the line, and its seal record (`sealRecordLsn`) after the sealed LSN; a start
 * line names the log's end as the open found it, which the open has just fdatasynced (wal/open-sync.ts). So a log that
 * ends below that LSN lost records that were durable, and may have been acknowledged (LOG_BEHIND_ANCHOR at start,
 * runtime/anchors-behind.ts). Lines only grow along a run and from run to run, so the end is in the file's tail: only
 * its last TAIL_SCAN_BYTES are read (bounded, whatever the file's size), and the rotated `FILE.1` too (a crash right
 * after a rotation leaves the newest anchor there). A file missing, empty, torn or not anchors is less evidence, not an
 * error: lines that do not parse are passed over.
 */

import { closeSync, fstatSync, readSync } from 'node:fs'
import { nodeIo } from '../../wal/index.ts'
import * as v from 'valibot'
import { ANCHOR_SCHEMA } from './anchors.ts'
import { TAIL_SCAN_BYTES } from './anchor-writer.ts'
import { ANCHORS_WRITER_ENTRIES } from './anchors-writer.ts'

const LINE_SCHEMA = v.looseObject({
  ...ANCHOR_SCHEMA.entries,
  at: v.optional(v.string()),
  sealRecordLsn: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER))),
  ...ANCHORS_WRITER_ENTRIES,
})
export type AnchorsFileLine = v.InferOutput<typeof LINE_SCHEMA>

export interface AnchorsEnd {
  /** The highest LSN a line names (its sealed LSN, or its seal record's when it says one). */
  lsn: number
  file: string
  /** What the line is: `start` (a run's start), `shutdown` (a clean stop's anchor), `anchor` (any other). */
  kind: string
}

/** The last lines of `path` that are anchors, in file order; [] when there is no readable file. */
export function anchorsFileTailLines(path: string): AnchorsFileLine[] {
  return anchorsFileTail(path).lines
}

/**
 * The anchors in the tail of `path`, and how many lines there are not anchors (passed over): the first line a window
 * cut and a last line a torn append left are not counted, nor are empty lines. A file that holds garbage is then less
 * evidence that says so (replay-verify's note), where `audit verify --anchors` refuses it (ANCHORS_INVALID).
 */
export function anchorsFileTail(path: string): { lines: AnchorsFileLine[]; passedOver: number } {
  let fd: number
  try {
    // O_NONBLOCK: a FIFO under the name opens at once, to be passed over below (a blocking open waited for a writer,
    // holding a start and replay-verify for good, before the check that it is a file could run).
    fd = nodeIo.openRead(path)
  } catch {
    return { lines: [], passedOver: 0 }
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) return { lines: [], passedOver: 0 }
    const bytes = new Uint8Array(Math.min(stat.size, TAIL_SCAN_BYTES))
    readSync(fd, bytes, 0, bytes.byteLength, stat.size - bytes.byteLength)
    const texts = new TextDecoder().decode(bytes).split('\n')
    const lines: AnchorsFileLine[] = []
    let passedOver = 0
    // The first line may be cut by the window, the last by a torn append: neither parses, both are passed over.
    texts.forEach((text, index) => {
      const parsed = v.safeParse(LINE_SCHEMA, parseOrNull(text))
      if (parsed.success) lines.push(parsed.output)
      else if (text.trim() !== '' && !(index === 0 && bytes.byteLength < stat.size) && index !== texts.length - 1) passedOver++
    })
    return { lines, passedOver }
  } catch {
    return { lines: [], passedOver: 0 }
  } finally {
    closeSync(fd)
  }
}

/** The highest LSN the anchors file at `path` (and its rotated `path.1`) vouches for; null when they name none. */
export function anchorsFileEnd(path: string): AnchorsEnd | null {
  let end: AnchorsEnd | null = null
  for (const file of [path, `${path}.1`]) {
    for (const line of anchorsFileTailLines(file)) {
      const lsn = Math.max(line.lsn, line.sealRecordLsn ?? 0)
      if (end === null || lsn > end.lsn) end = { lsn, file, kind: line.at ?? 'anchor' }
    }
  }
  return end
}

/**
 * The lines in the tails of the anchors file at `path` and of its rotated `path.1`, oldest first (`.1`'s, then the
 * current file's), each with the file it is in: what the offline checks judge line by line (anchors-judged.ts).
 */
export function anchorsFileLines(path: string): (AnchorsFileLine & { file: string })[] {
  return [`${path}.1`, path].flatMap((file) => anchorsFileTailLines(file).map((line) => ({ ...line, file })))
}

function parseOrNull(text: string): unknown {
  if (text.trim() === '') return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
