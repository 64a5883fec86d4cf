/**
 * The file-system calls the log makes (and the HA swaps of a data dir's log, src/runtime/ha/dir-swap.ts), behind one
 * interface so tests can inject failures (EIO on fsync, ENOSPC on write) at exact points. The default is node:fs,
 * synchronous, except the batch's fdatasync, which the writer issues off the event loop (`fdatasyncOffLoop`, a
 * thread-pool call) so requests keep being parsed and decided — and the next batch accumulates — while the disk syncs,
 * and the preallocated zeros, written off the loop beside that sync (`writeOffLoop`); a running gateway's snapshot file is
 * written and fsynced off the loop too (`writeOffLoop`, `fsyncOffLoop`: src/runtime/snapshot/store-write.ts), and a
 * leader's lease renewal written, renamed and fsynced off it (`renameOffLoop`, `fsyncDirectoryOffLoop`:
 * wal/lease-renew-off-loop.ts). An implementation that wraps another must wrap both fdatasyncs, both fsyncs, both
 * directory fsyncs, both writes and both renames.
 *
 * Bun's own Bun.write/FileSink do not fsync; everything durable here goes through fdatasync/fsync explicitly.
 */

import * as fs from 'node:fs'
import { DirectoryOpenError } from './errors.ts'

/**
 * What tells one file from another under one name: a file removed and another linked in its place has another inode,
 * or, the number reused (ext4 hands a freed inode number to the next file created, at once), another change time (its
 * link set it) or size. A kernel before Linux 6.13 stamps change times from a coarse clock (one tick, 1 to 10 ms): two
 * files of one reused number, one size and one tick are not told apart.
 */
export interface FileIdentity {
  dev: number
  ino: number
  ctimeMs: number
  sizeBytes: number
}

/** Are two identities (WalIo.fileIdentity) the same file? */
export function sameFileIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.ctimeMs === b.ctimeMs && a.sizeBytes === b.sizeBytes
}

export interface WalIo {
  openAppend(path: string): number
  /**
   * Opens a file to read it, never waiting: a FIFO under a file's name (a segment's, a snapshot's, the manifest's)
   * opens at once, reads as empty and is refused as the file it poses as would be; a blocking open waited for a
   * writer that never came, holding a start (or a running gateway's snapshot) for good.
   */
  openRead(path: string): number
  write(fd: number, data: Uint8Array, positionBytes: number): void
  read(fd: number, target: Uint8Array, positionBytes: number): number
  fdatasync(fd: number): void
  /**
   * The same fdatasync, completing off the event loop: `done` is called once, later, with the error or null. It may
   * also throw synchronously (a refused call, nothing issued); either way the writer treats a failure as fatal and
   * never retries.
   */
  fdatasyncOffLoop(fd: number, done: (error: Error | null) => void): void
  /**
   * Writes `data` at `positionBytes` fully, off the event loop (thread-pool writes, short writes continued): `done`
   * is called once, later, with the error or null; or it throws synchronously, having issued nothing. The writer uses
   * it only for the preallocated zeros, while no other write to the file can run (see GroupCommit.makeDurable); the
   * snapshot store for the pieces of a snapshot's temp file, one at a time (store-write.ts).
   */
  writeOffLoop(fd: number, data: Uint8Array, positionBytes: number, done: (error: Error | null) => void): void
  fsync(fd: number): void
  /** The same fsync, completing off the event loop, as fdatasyncOffLoop: `done` called once, later, or a synchronous throw. */
  fsyncOffLoop(fd: number, done: (error: Error | null) => void): void
  close(fd: number): void
  sizeBytes(fd: number): number
  /**
   * The size of the regular file at `path`, by lstat: nothing is opened and no link followed, so a FIFO is never
   * waited on. Null when `path` is anything else (a FIFO, a link, a directory, a device).
   */
  regularFileBytes(path: string): number | null
  truncate(fd: number, lengthBytes: number): void
  /**
   * fsyncs a directory so that entries created, renamed or removed in it are durable. When the directory cannot be
   * opened, no fsync is attempted and the error is a DirectoryOpenError (node:fs's, as its cause), never the fsync's.
   */
  fsyncDirectory(path: string): void
  /**
   * The same directory fsync, completing off the event loop: `done` called once, later, with the error (a
   * DirectoryOpenError when the directory could not be opened: no fsync attempted) or null; or a synchronous throw,
   * nothing issued. The lease's renewal uses it (Lease.renewOffLoop, wal/lease-renew-off-loop.ts).
   */
  fsyncDirectoryOffLoop(path: string, done: (error: Error | null) => void): void
  rename(from: string, to: string): void
  /** The same rename, completing off the event loop: `done` called once, later, with the error or null. */
  renameOffLoop(from: string, to: string, done: (error: Error | null) => void): void
  /** Hard-links `existing` as `newPath`; throws EEXIST if `newPath` exists (atomic create-with-content). */
  link(existing: string, newPath: string): void
  unlink(path: string): void
  readdir(path: string): string[]
  mkdirp(path: string): void
  exists(path: string): boolean
  /**
   * Which file `path` names now (stat, links followed), or null when there is none — or the stat fails, as `exists`
   * reads it false. The lease's fencing check makes it in place of `exists` on its own epoch file (Lease.fenced,
   * wal/lease.ts): another file linked under the same name differs in one of the three.
   */
  fileIdentity(path: string): FileIdentity | null
  /** Removes a file, or a directory with everything under it (`rm -rf`); nothing when `path` does not exist. */
  removeAll(path: string): void
}

function writeFully(fd: number, data: Uint8Array, positionBytes: number): void {
  let written = 0
  while (written < data.byteLength) {
    const count = fs.writeSync(fd, data, written, data.byteLength - written, positionBytes + written)
    if (count <= 0) throw new Error(`write returned ${count}`)
    written += count
  }
}

function writeFullyOffLoop(fd: number, data: Uint8Array, positionBytes: number, done: (error: Error | null) => void): void {
  let written = 0
  const next = (): void => {
    fs.write(fd, data, written, data.byteLength - written, positionBytes + written, (error, count) => {
      if (error !== null) return done(error)
      if (count <= 0) return done(new Error(`write returned ${count}`))
      written += count
      if (written < data.byteLength) next()
      else done(null)
    })
  }
  next()
}

/** nodeIo's fsyncDirectory off the loop: open, fsync and close each a thread-pool call; the fd closed whatever the fsync did. */
function fsyncDirectoryOffLoop(path: string, done: (error: Error | null) => void): void {
  fs.open(path, fs.constants.O_RDONLY, (openError, fd) => {
    // No fsync was attempted: not an fsync failure (as fsyncDirectory).
    if (openError !== null) return done(new DirectoryOpenError(path, openError))
    fs.fsync(fd, (syncError) => fs.close(fd, (closeError) => done(syncError ?? closeError)))
  })
}

/** nodeIo's fileIdentity: a stat that finds nothing, or fails (EACCES, EIO, a share gone), is null, as existsSync's false. */
function fileIdentity(path: string): FileIdentity | null {
  try {
    const stats = fs.statSync(path, { throwIfNoEntry: false })
    return stats === undefined ? null : { dev: stats.dev, ino: stats.ino, ctimeMs: stats.ctimeMs, sizeBytes: stats.size }
  } catch {
    return null
  }
}

export const nodeIo: WalIo = {
  openAppend: (path) => fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o640),
  // O_NONBLOCK: a FIFO opens at once (see WalIo.openRead); a regular file reads as usual.
  openRead: (path) => fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK),
  write: writeFully,
  read: (fd, target, positionBytes) => fs.readSync(fd, target, 0, target.byteLength, positionBytes),
  fdatasync: (fd) => fs.fdatasyncSync(fd),
  fdatasyncOffLoop: (fd, done) => fs.fdatasync(fd, (error) => done(error)),
  writeOffLoop: writeFullyOffLoop,
  fsync: (fd) => fs.fsyncSync(fd),
  fsyncOffLoop: (fd, done) => fs.fsync(fd, (error) => done(error)),
  close: (fd) => fs.closeSync(fd),
  sizeBytes: (fd) => fs.fstatSync(fd).size,
  regularFileBytes: (path) => {
    const stats = fs.lstatSync(path)
    return stats.isFile() ? stats.size : null
  },
  truncate: (fd, lengthBytes) => fs.ftruncateSync(fd, lengthBytes),
  fsyncDirectory: (path) => {
    let fd: number
    try {
      fd = fs.openSync(path, fs.constants.O_RDONLY)
    } catch (error) {
      // No fsync was attempted: not an fsync failure (see DirectoryOpenError for who dies of it and who does not).
      throw new DirectoryOpenError(path, error)
    }
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  },
  fsyncDirectoryOffLoop,
  rename: (from, to) => fs.renameSync(from, to),
  renameOffLoop: (from, to, done) => fs.rename(from, to, (error) => done(error)),
  link: (existing, newPath) => fs.linkSync(existing, newPath),
  unlink: (path) => fs.unlinkSync(path),
  readdir: (path) => fs.readdirSync(path),
  mkdirp: (path) => void fs.mkdirSync(path, { recursive: true }),
  exists: (path) => fs.existsSync(path),
  fileIdentity,
  removeAll: (path) => fs.rmSync(path, { recursive: true, force: true }),
}

/**
 * Reads `lengthBytes` from `positionBytes` fully (short reads only at end of file). The buffer is allocated without
 * zero-filling (the read overwrites it); after a short read the part not read is zeroed, so no stale memory is
 * reachable through `.buffer`. Loops that read much reuse a ReadBuffer (read-buffer.ts) instead.
 */
export function readFully(io: WalIo, fd: number, positionBytes: number, lengthBytes: number): Uint8Array {
  const raw = Buffer.allocUnsafeSlow(lengthBytes) // never pooled: `.buffer` is this read's alone
  const target = new Uint8Array(raw.buffer, raw.byteOffset, lengthBytes)
  const filled = readInto(io, fd, target, positionBytes)
  if (filled === lengthBytes) return target
  target.fill(0, filled)
  return target.subarray(0, filled)
}

/** Fills `target` from `positionBytes`; returns the bytes read (fewer than its length only at end of file). */
export function readInto(io: WalIo, fd: number, target: Uint8Array, positionBytes: number): number {
  let filled = 0
  while (filled < target.byteLength) {
    const count = io.read(fd, filled === 0 ? target : target.subarray(filled), positionBytes + filled)
    if (count <= 0) break
    filled += count
  }
  return filled
}
