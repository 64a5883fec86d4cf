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

/** At most `bytesMax` bytes of `path`; FileTooLargeError past that, node's own error (with its `code`) if unreadable. */
export function readFileBounded(path: string, bytesMax: number): Uint8Array {
  const fd = openSync(path, 'r')
  try {
    const buffer = new Uint8Array(bytesMax + 1)
    let length = 0
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null)
      if (read === 0) return buffer.subarray(0, length)
      length += read
      if (length > bytesMax) throw new FileTooLargeError(path, bytesMax)
    }
  } finally {
    closeSync(fd)
  }
}

/** Why a read failed, for a one-line message: the errno code, "larger than N bytes", or the error's text. */
export function readFailureOf(error: unknown): string {
  if (error instanceof FileTooLargeError) return `larger than ${error.bytesMax} bytes`
  return (error as NodeJS.ErrnoException).code ?? String(error)
}
