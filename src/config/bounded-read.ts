/**
 * Reading a file the operator names (config, JWKS, key files) with a bound on its size: a path pointing at the wrong
 * thing (`/dev/zero`, a log, a pipe that never ends) must fail with a message, not grow the process until it dies.
 * Reads until the end rather than trusting a size from stat, so pipes and `<(…)` work too.
 */

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'

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

/** A pipe or socket where a file that is read again (JWKS, keys, secrets) was expected. */
export class NotAFileError extends Error {
  readonly code = 'NOT_A_FILE'

  constructor(readonly path: string) {
    super(`${path}: a pipe or socket, not a file`)
    this.name = 'NotAFileError'
  }
}

export interface ReadBoundedOptions {
  /**
   * False: a FIFO or socket is refused (NotAFileError) instead of read. Opening a FIFO blocks until a writer comes, so
   * one given as the JWKS file hung the start without a word, and a reload would block the event loop. True by default
   * (a config file may be given as `<(…)`).
   */
  allowPipes?: boolean
}

/** The first read's buffer: the buffer doubles from here, so a large bound costs nothing for a small file. */
const FIRST_READ_BYTES = 64 * 1024

/** At most `bytesMax` bytes of `path`; FileTooLargeError past that, node's own error (with its `code`) if unreadable. */
export function readFileBounded(path: string, bytesMax: number, options: ReadBoundedOptions = {}): Uint8Array {
  const allowPipes = options.allowPipes ?? true
  // O_NONBLOCK: a FIFO opens at once (to be refused); a regular file or device reads as usual.
  const fd = openSync(path, allowPipes ? constants.O_RDONLY : constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    if (!allowPipes) {
      const stat = fstatSync(fd)
      if (stat.isFIFO() || stat.isSocket()) throw new NotAFileError(path)
    }
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
  if (error instanceof NotAFileError) return 'a pipe or socket, not a file'
  return (error as NodeJS.ErrnoException).code ?? String(error)
}
