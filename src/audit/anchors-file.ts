/**
 * Reading an anchors file (`egress audit verify --anchors FILE`). The file grows by one line per anchor for as long as
 * the gateway runs (its periodic anchors, anchor-writer.ts, which bounds the file well below this; `egress audit
 * anchor DIR >> anchors.jsonl`; an anchor loop on `POST /v1/audit/anchor`), so its legitimate size is ANCHORS_MAX anchors of up to ANCHOR_BYTES_TYPICAL_MAX bytes each (a line with its seal is
 * about 650 bytes), ANCHORS_FILE_BYTES_MAX in all. A 128 MiB bound on the whole file refused, as ANCHORS_UNREADABLE,
 * the file of an anchor loop at the default seal interval (one a minute) after some five months, which was read before.
 *
 * JSON lines are read a chunk at a time, each line parsed and checked as it is complete: what a wrong file (/dev/zero,
 * a log segment, a pipe that never ends) costs is one line, bounded by ANCHOR_LINE_BYTES_MAX, not the file. A JSON
 * array is one document, parsed whole, within ANCHORS_FILE_BYTES_MAX.
 */

import { closeSync, openSync, readSync } from 'node:fs'
import * as v from 'valibot'
import { readFailureOf } from '../config/bounded-read.ts'
import { ANCHOR_SCHEMA, ANCHORS_MAX, AnchorsFileError, parseAnchors, type Anchor } from './anchors.ts'

/** A generous size of one legitimate anchor (about 650 bytes as a line with its seal, some 750 pretty-printed). */
export const ANCHOR_BYTES_TYPICAL_MAX = 1024
/** The whole file: ANCHORS_MAX anchors of typical size. */
export const ANCHORS_FILE_BYTES_MAX = ANCHORS_MAX * ANCHOR_BYTES_TYPICAL_MAX
/** One line of a JSON-lines file: far above any anchor, so a wrong file is refused at its first line. */
export const ANCHOR_LINE_BYTES_MAX = 64 * 1024

const CHUNK_BYTES = 1024 * 1024

export interface ReadAnchorsOptions {
  /**
   * A last line without its line break that is not an anchor (a torn append: the gateway's own file, copied while it
   * writes or left by a power cut, which its next append cuts off) is passed here, by its line number, and skipped
   * instead of refusing the file. Without it the file is refused (ANCHORS_INVALID), as any other bad line is.
   */
  onTornLastLine?: (lineNumber: number) => void
}

/** The anchors in the file at `path` (JSON lines or a JSON array); AnchorsFileError naming the file (and line). */
export function readAnchorsFile(path: string, options: ReadAnchorsOptions = {}): Anchor[] {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    throw unreadable(path, `cannot read (${readFailureOf(error)})`)
  }
  try {
    return readOpenAnchorsFile(fd, path, options)
  } finally {
    closeSync(fd)
  }
}

function readOpenAnchorsFile(fd: number, path: string, options: ReadAnchorsOptions): Anchor[] {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const chunk = new Uint8Array(CHUNK_BYTES)
  const lines = new AnchorLines(path, options.onTornLastLine)
  // The format is told by the first character that is not white space: `[` for an array, anything else lines.
  let format: 'unknown' | 'array' | 'lines' = 'unknown'
  const arrayText: string[] = []
  let head = ''
  let bytesRead = 0
  for (;;) {
    let count: number
    try {
      count = readSync(fd, chunk, 0, chunk.length, null)
    } catch (error) {
      throw unreadable(path, `cannot read (${readFailureOf(error)})`)
    }
    bytesRead += count
    if (bytesRead > ANCHORS_FILE_BYTES_MAX) throw unreadable(path, `cannot read (larger than ${ANCHORS_FILE_BYTES_MAX} bytes)`)
    const text = decode(decoder, count === 0 ? null : chunk.subarray(0, count), path)
    if (format === 'array') arrayText.push(text)
    else if (format === 'lines') lines.push(text)
    else {
      head += text
      const first = /\S/.exec(head)?.[0]
      if (first === '[') {
        format = 'array'
        arrayText.push(head)
      } else if (first !== undefined || head.length > ANCHOR_LINE_BYTES_MAX) {
        format = 'lines'
        lines.push(head)
      }
    }
    if (count === 0) break
  }
  if (format === 'array') return parseAnchors(arrayText.join(''), path)
  if (format === 'unknown') lines.push(head)
  return lines.end()
}

/** Strict UTF-8 across chunk boundaries; `bytes` null at the end of the file. */
function decode(decoder: TextDecoder, bytes: Uint8Array | null, path: string): string {
  try {
    return bytes === null ? decoder.decode() : decoder.decode(bytes, { stream: true })
  } catch {
    throw new AnchorsFileError('ANCHORS_INVALID', `anchors file ${path}: not UTF-8 text`)
  }
}

/** JSON lines parsed as they complete: a blank line is skipped, any other must be one anchor. */
class AnchorLines {
  readonly anchors: Anchor[] = []
  private partial = ''
  private lineNumber = 0

  constructor(
    private readonly path: string,
    private readonly onTornLastLine: ((lineNumber: number) => void) | undefined,
  ) {}

  push(text: string): void {
    const parts = (this.partial + text).split('\n')
    this.partial = parts.pop() as string
    for (const line of parts) this.line(line)
    // Characters, not bytes: a line of multi-byte characters may reach twice the bound before it is refused.
    if (this.partial.length > ANCHOR_LINE_BYTES_MAX) {
      throw unreadable(this.path, `line ${this.lineNumber + 1} is longer than ${ANCHOR_LINE_BYTES_MAX} bytes, which no anchor is`)
    }
  }

  end(): Anchor[] {
    // What is left has no line break after it: whole when it parses, else torn if the caller allows one.
    try {
      this.line(this.partial)
    } catch (error) {
      const torn = this.onTornLastLine !== undefined && error instanceof AnchorsFileError && this.anchors.length < ANCHORS_MAX
      if (!torn) throw error
      this.onTornLastLine?.(this.lineNumber)
    }
    this.partial = ''
    return this.anchors
  }

  private line(line: string): void {
    this.lineNumber++
    if (line.trim() === '') return
    const where = `${this.path} line ${this.lineNumber}`
    if (this.anchors.length === ANCHORS_MAX) throw invalid(`${this.path}: more than ${ANCHORS_MAX} anchors, at most ${ANCHORS_MAX} are read`)
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw invalid(`${where}: not valid JSON (${error instanceof Error ? error.message : String(error)})`)
    }
    const result = v.safeParse(ANCHOR_SCHEMA, value)
    if (!result.success) throw invalid(`${where}: ${v.getDotPath(result.issues[0]) ?? 'anchor'}: ${result.issues[0].message}`)
    this.anchors.push(result.output)
  }
}

function unreadable(path: string, why: string): AnchorsFileError {
  return new AnchorsFileError('ANCHORS_UNREADABLE', `anchors file ${path}: ${why}`)
}

function invalid(message: string): AnchorsFileError {
  return new AnchorsFileError('ANCHORS_INVALID', message)
}
