/**
 * Periodic anchors: the running gateway appends an anchor (`{ lsn, chainHead, seal, sealRecordLsn, sealedAtMs }`, the
 * line `egress audit anchor` prints and `egress audit verify --anchors` reads) to a JSON-lines file after a seal, at
 * most one per `everyMs` (and one for the last seal at clean shutdown). Before, anchors existed only when someone
 * asked (POST /v1/audit/anchor, the CLI), so a log rewritten or cut short with no one asking left nothing to hold it to.
 *
 * Off the order path: it runs after a seal is durable, on the file system's thread pool (node:fs/promises), one write
 * at a time; seals landing meanwhile leave only the newest waiting (one anchor vouches for every record before it, by
 * the chain). Each line is fsynced, and the directory when the file is new. A failure is counted and reported
 * (`onError`, egress_audit_anchor_failures_total) and never stops the gateway: this file is not the log.
 *
 * Bounded: when the next line would take the file past `fileBytesMax`, it is renamed to FILE.1 (replacing the one
 * before) and a new file begun; the newest anchor covers the whole chain before it, so what is dropped is only older
 * evidence of when a head was seen. A torn last line (a power cut mid-append) is cut off before the first append of
 * a process, so the file stays readable by --anchors.
 */

import { mkdirSync } from 'node:fs'
import { open, rename, stat, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { makeDirDurable, nodeIo } from '../../wal/index.ts'
import type { AnchorsWriter } from './anchors-writer.ts'
import type { SealResult } from './sealer.ts'

/** The default spacing of periodic anchors. */
export const ANCHOR_EVERY_MS_DEFAULT = 300_000
/** The default bound of the anchors file: some 100,000 anchors (about 650 bytes a line). */
export const ANCHORS_FILE_BYTES_MAX_DEFAULT = 64 * 1024 * 1024
/** How far back from its end a file is read for its last line break (a torn line is shorter than any anchor's bound). */
export const TAIL_SCAN_BYTES = 64 * 1024

export interface AnchorWriterOptions {
  path: string
  /** At most one anchor per this many ms of the clock given to offer(). */
  everyMs: number
  fileBytesMax: number
  /**
   * Who writes the lines (anchors-writer.ts), added to each one so an offline check knows whether a start would judge
   * the file (LOG_BEHIND_ANCHOR); unset, lines do not say (as an older build's).
   */
  writer?: AnchorsWriter
  /** Opens the file for appending (node:fs/promises' open; a spec's stand-in fails a write part way). */
  openFile?: (path: string, flags: string, mode: number) => Promise<FileHandle>
}

export class AnchorWriter {
  /** Anchors written by this process, and writes that failed. */
  written = 0
  failures = 0
  /** Where a failed write is reported (the gateway's onError, set by its audit duty). */
  onError: (error: unknown, context: string) => void = () => {}
  private readonly options: AnchorWriterOptions
  private lastWrittenAtMs: number | null = null
  /** The seal record of the last anchor written or taken to be written, so one seal is not anchored twice. */
  private lastSealRecordLsn = 0
  private lastWasShutdown = false
  private waiting: { seal: SealResult; atShutdown: boolean } | null = null
  private running: Promise<void> | null = null
  private tailChecked = false

  constructor(options: AnchorWriterOptions) {
    this.options = options
  }

  get path(): string {
    return this.options.path
  }

  /**
   * A seal just made durable: anchored if `everyMs` has passed since the last anchor, or at clean shutdown whatever the
   * spacing, marked `at: "shutdown"` (the log ends with that seal: anchor-at-start.ts), even if it was anchored already.
   */
  offer(seal: SealResult, nowMs: number, options: { atShutdown?: boolean } = {}): void {
    const atShutdown = options.atShutdown === true
    if (seal.recordLsn < this.lastSealRecordLsn || (seal.recordLsn === this.lastSealRecordLsn && (!atShutdown || this.lastWasShutdown))) return
    const due = atShutdown || this.lastWrittenAtMs === null || nowMs - this.lastWrittenAtMs >= this.options.everyMs
    if (!due) return
    this.lastWrittenAtMs = nowMs
    this.lastSealRecordLsn = seal.recordLsn
    this.lastWasShutdown = atShutdown
    this.waiting = { seal, atShutdown }
    this.running ??= this.drain()
  }

  /** A write of this file made elsewhere (the start line) failed: counted and reported as a failed anchor. */
  reportFailure(error: unknown, context: string): void {
    this.failures++
    this.onError(error, `${context} to ${this.options.path}`)
  }

  /** Resolves once every anchor offered so far is written (or has failed). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.waiting; next !== null; next = this.waiting) {
        this.waiting = null
        try {
          await this.write(anchorLine(next.seal, { ...(next.atShutdown ? { at: 'shutdown' as const } : {}), ...this.options.writer }))
          this.written++
        } catch (error) {
          this.reportFailure(error, `writing the anchor of LSN ${next.seal.claims.lsn}`)
        }
      }
    } finally {
      this.running = null
    }
  }

  private async write(line: string): Promise<void> {
    const { path } = this.options
    const bytes = new TextEncoder().encode(line)
    let size = await sizeOf(path)
    // Once per directory's life, synchronously: the anchors directory made (and findable after a power cut).
    if (size === null) makeDirDurable(nodeIo, dirname(path), { mkdir: (dir) => void mkdirSync(dir, { recursive: true, mode: 0o700 }) })
    else if (size > 0 && size + bytes.byteLength > this.options.fileBytesMax) {
      await rename(path, `${path}.1`)
      await fsyncDirectory(dirname(path))
      size = null
    }
    const handle = await (this.options.openFile ?? open)(path, 'a+', 0o600)
    try {
      if (size !== null && !this.tailChecked) await cutTornLine(handle, size)
      // Until this line is whole and synced, the file may end with part of it (a full disk takes some bytes, then
      // fails): the next write cuts it off first. Appended after it, the next anchor made one unreadable line of the
      // two, and 'egress audit verify --anchors' refused the whole file.
      this.tailChecked = false
      const { bytesWritten } = await handle.write(bytes)
      if (bytesWritten !== bytes.byteLength) throw new Error(`${path}: ${bytesWritten} of the anchor's ${bytes.byteLength} bytes written (is the disk full?)`)
      await handle.sync()
      this.tailChecked = true
    } finally {
      await handle.close()
    }
    if (size === null) await fsyncDirectory(dirname(path))
  }
}

/**
 * The anchor of a seal, as one line: the shape `egress audit anchor` prints, `at: "shutdown"` for a clean stop's, and
 * the gateway's writer members (`ha`, `durability`) in its anchors file.
 */
export function anchorLine(seal: SealResult, mark: { at?: 'shutdown' } & Partial<AnchorsWriter> = {}): string {
  const { claims } = seal
  return `${JSON.stringify({ lsn: claims.lsn, chainHead: claims.chainHead, seal: seal.jws, sealRecordLsn: seal.recordLsn, sealedAtMs: claims.sealedAtMs, ...mark })}\n`
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** The file's size; null when there is none. A FIFO, socket or device there is refused: an anchor is fsynced to a file. */
async function sizeOf(path: string): Promise<number | null> {
  try {
    const found = await stat(path)
    if (!found.isFile()) throw new Error(`${path} is not a regular file`)
    return found.size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

/** Truncates the file after its last line break when it does not end with one (a torn append, zeros after a cut). */
async function cutTornLine(handle: FileHandle, size: number): Promise<void> {
  if (size === 0) return
  const start = Math.max(0, size - TAIL_SCAN_BYTES)
  const tail = new Uint8Array(size - start)
  await handle.read(tail, 0, tail.byteLength, start)
  const whole = lengthWithoutTornLine(tail, size)
  if (whole === null) return
  await handle.truncate(whole)
  await handle.sync()
}

/**
 * The length a file of `size` bytes ending in `tail` (its last TAIL_SCAN_BYTES at most) keeps once a torn last line is
 * cut off: up to its last line break; null when it ends with one (nothing to cut). A tail without any line break keeps
 * nothing when it is the whole file, and everything when it is not (no break within reach: left for the reader).
 */
export function lengthWithoutTornLine(tail: Uint8Array, size: number): number | null {
  if (size === 0 || tail[tail.byteLength - 1] === 0x0a) return null
  const start = size - tail.byteLength
  const lastBreak = tail.lastIndexOf(0x0a)
  return lastBreak < 0 ? (start === 0 ? 0 : size) : start + lastBreak + 1
}
