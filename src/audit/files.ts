/** Writing audit evidence: private (0600 files in 0700 directories), durable (fsynced, then the directory). */

import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs'

export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIR_MODE = 0o700

/** Creates `path` exclusively (never replaces a file), mode 0600, and fsyncs it. */
export function writePrivateFile(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'wx', PRIVATE_FILE_MODE)
  try {
    // The mode given to open is filtered by the umask; set it explicitly.
    fchmodSync(fd, PRIVATE_FILE_MODE)
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
    let written = 0
    while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Creates a new directory (failing if it exists), mode 0700. */
export function makePrivateDir(path: string): void {
  mkdirSync(path, { mode: PRIVATE_DIR_MODE })
}

export function fsyncDirectory(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
