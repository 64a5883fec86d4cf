/**
 * Reading the config file: bounded in size, UTF-8 (a leading byte order mark, as some editors write, is dropped),
 * checked strictly (json-check.ts: no field given twice, syntax errors by line and column), then parsed. Every
 * failure is a ConfigError naming the file, and none quotes the file's text, which may hold a secret.
 */

import { closeSync, openSync, readSync } from 'node:fs'
import { checkJsonText } from './json-check.ts'
import { ConfigError } from './config-error.ts'

/**
 * A config file larger than this is refused. Far above any real config (thousands of FIX instruments fit), and a
 * bound on what a wrong path costs: `--config` pointed at a log segment, a device like /dev/zero or /dev/urandom was
 * read whole, until the process ran out of memory.
 */
export const CONFIG_FILE_BYTES_MAX = 4 * 1024 * 1024

/** The config file's top-level object. Throws ConfigError. */
export function readConfigFile(path: string): Record<string, unknown> {
  const bytes = readBounded(path)
  let text: string
  try {
    // fatal: an invalid byte would otherwise become U+FFFD, silently changing a secret or an id.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw fileError(path, 'not UTF-8 text (save it as UTF-8)')
  }
  const problem = checkJsonText(text)
  if (problem?.kind === 'syntax') throw fileError(path, `not valid JSON at line ${problem.line}, column ${problem.column}: ${problem.message}`)
  if (problem?.kind === 'duplicate') {
    const lines = problem.firstLine === problem.line ? `line ${problem.line}` : `lines ${problem.firstLine} and ${problem.line}`
    throw new ConfigError([{ path: problem.path, message: `given twice in config file ${path} (${lines}); JSON would keep only the last` }])
  }
  const parsed: unknown = JSON.parse(text)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw fileError(path, 'expected a JSON object at the top level')
  return parsed as Record<string, unknown>
}

/** At most CONFIG_FILE_BYTES_MAX bytes of `path`, read until its end (a pipe, `<(…)`, works too). */
function readBounded(path: string): Uint8Array {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    throw fileError(path, `cannot read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`)
  }
  try {
    const buffer = new Uint8Array(CONFIG_FILE_BYTES_MAX + 1)
    let length = 0
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null)
      if (read === 0) return buffer.subarray(0, length)
      length += read
      if (length > CONFIG_FILE_BYTES_MAX) throw fileError(path, `larger than ${CONFIG_FILE_BYTES_MAX} bytes: not a config file`)
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw fileError(path, `cannot read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`)
  } finally {
    closeSync(fd)
  }
}

function fileError(path: string, message: string): ConfigError {
  return new ConfigError([{ path: '', message: `config file ${path}: ${message}` }])
}
