/** Shared helpers for the WAL specs: temp dirs, records, and an I/O layer whose calls can be counted or failed. */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LeaseError, nodeIo, type RecordInput, type WalIo } from '../../wal/index.ts'
import { encodeFrameAt } from '../../wal/frame.ts'

const created: string[] = []

export function tempDir(prefix = 'egress-wal-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  created.push(dir)
  return dir
}

export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
}

export function record(text: string, type = 7, version = 1): RecordInput {
  return { type, version, payload: new TextEncoder().encode(text) }
}

export function text(payload: Uint8Array): string {
  return new TextDecoder().decode(payload)
}

/** A deterministic PRNG (mulberry32) for fault placement in tests; the seed is printed by tests that use it. */
export function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface CountingIo extends WalIo {
  counts: { write: number; writeOffLoop: number; fdatasync: number; fsync: number; fsyncDirectory: number }
  /** Makes the next matching call fail with an errno-style error (the off-loop ones report it late, as done(error)). */
  failNext(call: 'write' | 'writeOffLoop' | 'fdatasync' | 'fsync', code: 'EIO' | 'ENOSPC'): void
}

export function countingIo(): CountingIo {
  const counts = { write: 0, writeOffLoop: 0, fdatasync: 0, fsync: 0, fsyncDirectory: 0 }
  const failures = new Map<string, string>()
  const maybeFail = (call: string): void => {
    const code = failures.get(call)
    if (code === undefined) return
    failures.delete(call)
    const error = new Error(`${code}: injected ${call} failure`) as NodeJS.ErrnoException
    error.code = code
    throw error
  }
  /** An off-loop call's injected failure, reported to `done` a turn later as the real call would; false: none. */
  const failedLate = (call: string, done: (error: Error | null) => void): boolean => {
    try {
      maybeFail(call)
      return false
    } catch (error) {
      setImmediate(() => done(error as Error))
      return true
    }
  }
  return {
    ...nodeIo,
    counts,
    failNext: (call, code) => void failures.set(call, code),
    write: (fd, data, positionBytes) => {
      counts.write++
      maybeFail('write')
      nodeIo.write(fd, data, positionBytes)
    },
    // Preallocated zeros (off the event loop): counted and failed like the synchronous write, the failure reported late.
    writeOffLoop: (fd, data, positionBytes, done) => {
      counts.writeOffLoop++
      if (!failedLate('writeOffLoop', done)) nodeIo.writeOffLoop(fd, data, positionBytes, done)
    },
    fdatasync: (fd) => {
      counts.fdatasync++
      maybeFail('fdatasync')
      nodeIo.fdatasync(fd)
    },
    // The batch's sync (off the event loop): counted and failed like the synchronous one, the failure reported late.
    fdatasyncOffLoop: (fd, done) => {
      counts.fdatasync++
      if (!failedLate('fdatasync', done)) nodeIo.fdatasyncOffLoop(fd, done)
    },
    fsync: (fd) => {
      counts.fsync++
      maybeFail('fsync')
      nodeIo.fsync(fd)
    },
    fsyncOffLoop: (fd, done) => {
      counts.fsync++
      if (!failedLate('fsync', done)) nodeIo.fsyncOffLoop(fd, done)
    },
    fsyncDirectory: (path) => {
      counts.fsyncDirectory++
      nodeIo.fsyncDirectory(path)
    },
  }
}

/** A real I/O layer whose off-loop fdatasyncs are held until the spec releases them (the sync itself is real). */
export function heldSyncIo(): WalIo & { held: number; release(): void } {
  const base = countingIo()
  const waiting: { fd: number; done: (error: Error | null) => void }[] = []
  return {
    ...base,
    fdatasyncOffLoop: (fd, done) => void waiting.push({ fd, done }),
    get held() {
      return waiting.length
    },
    release() {
      const next = waiting.shift()
      if (next === undefined) throw new Error('no sync is held')
      nodeIo.fdatasync(next.fd)
      next.done(null)
    },
  }
}

/** The code of the LeaseError `action` throws, or null when it throws none (any other error is rethrown). */
export function leaseCodeOf(action: () => unknown): string | null {
  try {
    action()
    return null
  } catch (error) {
    if (error instanceof LeaseError) return error.code
    throw error
  }
}

/** One frame written at `offset` of `target` (wal/frame.ts encodeFrameAt, its members named); returns its end offset. */
export function encodeFrame(
  target: Uint8Array,
  offset: number,
  frame: { lsn: number; epoch: number; record: RecordInput; previousHash: Uint8Array; scratchHash: Uint8Array; continues?: boolean },
): number {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength)
  return encodeFrameAt(target, view, offset, frame.lsn, frame.epoch, frame.record, frame.previousHash, frame.scratchHash, frame.continues ?? false)
}

/**
 * `bytes` of garbage crafted to cost a search for a valid frame after damage the most (wal/frame-search.ts): every 16th
 * offset reads as the header of a 64 KiB frame holding `lsn` (a plausible length, and an LSN the log could have written
 * there), so each is CRC-checked. The review's plain pattern (`00 00 0f 00` repeated: a length at every other offset,
 * no such LSN) when `lsn` is null.
 */
export function craftedFrameHeaders(bytes: number, lsn: number | null): Uint8Array {
  const pattern = lsn === null ? [0x00, 0x00, 0x0f, 0x00] : [0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, lsn & 0xff, (lsn >> 8) & 0xff, (lsn >> 16) & 0xff, lsn >>> 24, 0, 0, 0, 0]
  const garbage = new Uint8Array(bytes)
  for (let index = 0; index < bytes; index++) garbage[index] = pattern[index % pattern.length] as number
  return garbage
}
