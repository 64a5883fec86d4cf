/**
 * Reading the config file: bounded in size, UTF-8 (a leading byte order mark, as some editors write, is dropped),
 * checked strictly (json-check.ts: no field given twice, syntax errors by line and column), then parsed. Every
 * failure is a ConfigError naming the file, and none quotes the file's text, which may hold a secret.
 */

import { FileTooLargeError, readFileBounded } from './bounded-read.ts'
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
  try {
    return readFileBounded(path, CONFIG_FILE_BYTES_MAX)
  } catch (error) {
    if (error instanceof FileTooLargeError) throw fileError(path, `larger than ${CONFIG_FILE_BYTES_MAX} bytes: not a config file`)
    throw fileError(path, `cannot read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`)
  }
}

function fileError(path: string, message: string): ConfigError {
  return new ConfigError([{ path: '', message: `config file ${path}: ${message}` }])
}
