/**
 * The local HS256 secret. Paper and shadow gateways accept HS256 tokens; `egress token` mints them. Both must use the
 * same secret without anyone copying it around, so unless `auth.hs256Secret` is configured, the first of them to need
 * it generates 32 random bytes (base64url, 43 characters) into <dataDir>/auth/hs256.secret with mode 0600, and
 * everyone after reads it. The HMAC key is the UTF-8 bytes of the secret text in both cases.
 *
 * The file is written to a temporary name, fsynced and then hard-linked into place, so a reader never sees a
 * half-written secret and two processes starting at once agree on one winner (link fails with EEXIST for the loser).
 */

import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { FS_REFUSAL_MEANINGS, makeDirDurable, nodeIo } from '../../wal/index.ts'
import { readFailureOf, readFileBounded } from './bounded-read.ts'
import { ConfigError } from './load.ts'
import type { Config } from './schema.ts'

export const HS256_SECRET_FILE = join('auth', 'hs256.secret')

/** The path of the generated secret for a data directory. */
export function hs256SecretPath(dataDir: string): string {
  return join(dataDir, HS256_SECRET_FILE)
}

/** The HS256 secret text: configured, or read from / generated into the data directory. Throws ConfigError. */
export function resolveHs256Secret(config: Config): string {
  if (!config.auth.hs256Enabled) {
    throw new ConfigError([{ path: 'auth.hs256Enabled', message: `HS256 tokens are disabled (mode ${config.mode})` }])
  }
  if (config.auth.hs256Secret !== undefined) return config.auth.hs256Secret
  const path = hs256SecretPath(config.dataDir)
  return readSecret(path, HS256_FIELD) ?? createSecret(path, HS256_FIELD)
}

/** The config field a secret file's errors name. */
const HS256_FIELD = 'auth.hs256Secret'

/**
 * The key `GET /v1/orders` cursors are sealed with (src/http/order-list/cursor.ts), generated once into
 * <dataDir>/auth/cursor.secret the same way: a cursor handed out before a restart is then still known for one this
 * gateway sealed, and one whose seal does not verify is refused as made up.
 */
export const CURSOR_SECRET_FILE = join('auth', 'cursor.secret')

/** The cursor sealing secret of a data directory: read, or generated on first use. Throws ConfigError (field dataDir). */
export function resolveCursorSecret(dataDir: string): string {
  const path = join(dataDir, CURSOR_SECRET_FILE)
  return readSecret(path, 'dataDir') ?? createSecret(path, 'dataDir')
}

/**
 * A secret file holds 43 characters and a newline; an operator's own may be longer, never this long. Read whole
 * before, a wrong file in its place (a log segment copied there, say) became a secret of hundreds of MB.
 */
export const HS256_SECRET_FILE_BYTES_MAX = 4096

function readSecret(path: string, field: string): string | null {
  let mode: number
  try {
    mode = statSync(path).mode
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw secretError(field, path, `cannot read (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`)
  }
  if ((mode & 0o077) !== 0) {
    throw secretError(field, path, `is accessible to group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`)
  }
  const secret = secretText(path, field).trim()
  if (secret.length < 32) throw secretError(field, path, 'is shorter than 32 characters; delete it to generate a new one')
  return secret
}

/**
 * The file's text, bounded, strict UTF-8: an invalid byte read as U+FFFD changed the key without a word. A failed
 * read names the file and the field (node's own message for a directory names neither).
 */
function secretText(path: string, field: string): string {
  let bytes: Uint8Array
  try {
    bytes = readFileBounded(path, HS256_SECRET_FILE_BYTES_MAX, { allowPipes: false })
  } catch (error) {
    throw secretError(field, path, `cannot read (${readFailureOf(error)}); delete it to generate a new one`)
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw secretError(field, path, 'is not UTF-8 text; delete it to generate a new one')
  }
}

/**
 * createdSecret, its file-system refusals said as the field's: a read-only, unwritable or full data directory gave a
 * raw `EROFS: read-only file system, mkdir '<dir>/auth'` with no field named.
 */
function createSecret(path: string, field: string): string {
  try {
    return createdSecret(path, field)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (error instanceof ConfigError || typeof code !== 'string') throw error
    const message = (error as Error).message
    const why = FS_REFUSAL_MEANINGS[code] ?? (message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message)
    throw secretError(field, path, `cannot be created (${code}: ${why}); give a data directory this user may write, or the secret itself`)
  }
}

function createdSecret(path: string, field: string): string {
  const dir = join(path, '..')
  // auth/ (and a data dir the secret is the first to need) findable after a power cut, as the secret in it is.
  makeDirDurable(nodeIo, dir, { mkdir: (missing) => void mkdirSync(missing, { recursive: true, mode: 0o700 }), syncParentOfExisting: true })
  const secret = randomBytes(32).toString('base64url')
  const temporary = `${path}.${process.pid}.tmp`
  const fd = openSync(temporary, 'wx', 0o600)
  try {
    writeSync(fd, `${secret}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(temporary, path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    unlinkSync(temporary)
  }
  fsyncDirectory(dir)
  // Whoever won the race, the file on disk is the secret.
  const stored = readSecret(path, field)
  if (stored === null) throw secretError(field, path, 'vanished right after it was created')
  return stored
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function secretError(field: string, path: string, message: string): ConfigError {
  return new ConfigError([{ path: field, message: `secret file ${path} ${message}` }])
}
