/**
 * Reading a file the operator names (config, JWKS, key files) with a bound on its size: a path pointing at the wrong
 * thing (`/dev/zero`, a log, a pipe that never ends) must fail with a message, not grow the process until it dies.
 * Reads until the end rather than trusting a size from stat, so pipes and `<(…)` work too.
 */

import { closeSync, openSync, readSync } from 'node:fs'

/** The file holds more than the bound allows. */
export class FileTooLargeError extends Error {
  readonly code = 'FILE_TOO_LARGE'

  constructor(
    readonly path: string,
    readonly bytesMax: number,
  ) {
    super(`${path}: larger than ${bytesMax} bytes`)
    this.name = 'FileTooLargeError'
  }
}

/** The first read's buffer: the buffer doubles from here, so a large bound costs nothing for a small file. */
const FIRST_READ_BYTES = 64 * 1024

/** At most `bytesMax` bytes of `path`; FileTooLargeError past that, node's own error (with its `code`) if unreadable. */
export function readFileBounded(path: string, bytesMax: number): Uint8Array {
  const fd = openSync(path, 'r')
  try {
    let buffer: Uint8Array<ArrayBuffer> = new Uint8Array(Math.min(bytesMax + 1, FIRST_READ_BYTES))
    let length = 0
    for (;;) {
      if (length === buffer.length) buffer = grown(buffer, bytesMax + 1)
      const read = readSync(fd, buffer, length, buffer.length - length, null)
      if (read === 0) return buffer.subarray(0, length)
      length += read
      if (length > bytesMax) throw new FileTooLargeError(path, bytesMax)
    }
  } finally {
    closeSync(fd)
  }
}

function grown(buffer: Uint8Array<ArrayBuffer>, lengthMax: number): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(Math.min(lengthMax, buffer.length * 2))
  next.set(buffer, 0)
  return next
}

/** Why a read failed, for a one-line message: the errno code, "larger than N bytes", or the error's text. */
export function readFailureOf(error: unknown): string {
  if (error instanceof FileTooLargeError) return `larger than ${error.bytesMax} bytes`
  return (error as NodeJS.ErrnoException).code ?? String(error)
}
