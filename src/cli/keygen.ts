/**
 * `egress keygen`: an Ed25519 key pair for audit seals (DESIGN §7) as JWK files. The private key is written with
 * mode 0600 into a directory created with 0700; both files are fsynced, then the directory. The key id is the
 * RFC 7638 thumbprint, so the same key always has the same kid.
 */

import { closeSync, existsSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import { makeDirDurable, nodeIo } from '../../wal/index.ts'
import { EXIT_OK, parseOptions, UsageError, type CliIo, type Command } from './command.ts'

export const PRIVATE_KEY_FILE = 'seal-ed25519.private.jwk.json'
export const PUBLIC_KEY_FILE = 'seal-ed25519.public.jwk.json'

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'create an Ed25519 key pair (JWK files) for audit seals',
  help: `Usage: egress keygen --out DIR [--force]

Creates DIR (mode 0700) if needed and writes:
  DIR/${PRIVATE_KEY_FILE}   the signing key, mode 0600 — keep it secret
  DIR/${PUBLIC_KEY_FILE}    the verifying key, for auditors
The key id (kid) is the key's RFC 7638 thumbprint. Existing files are never replaced unless --force is given.

Options:
  --out DIR    where to write the key files; required
  --force      replace existing key files (seals signed with the old key then need the old public key to verify)
  --help       show this help`,
  run: runKeygen,
}

async function runKeygen(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, { out: { type: 'string' }, force: { type: 'boolean' } })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  if (values.out === undefined || values.out === '') throw new UsageError('--out DIR is required')
  // A file there failed as node's "EEXIST: file already exists, mkdir …", after the key pair was generated.
  if (existsSync(values.out) && !statSync(values.out).isDirectory()) throw new UsageError(`--out: expected a directory, got ${JSON.stringify(values.out)}: a file`)

  const privatePath = join(values.out, PRIVATE_KEY_FILE)
  const publicPath = join(values.out, PUBLIC_KEY_FILE)
  if (values.force !== true) {
    // Checked up front so a refusal leaves neither file half-replaced.
    for (const path of [privatePath, publicPath]) {
      if (existsSync(path)) throw new Error(`${path} already exists; pass --force to replace it`)
    }
  }

  // "EdDSA" with crv Ed25519 is what every JOSE library understands; jose also knows the newer "Ed25519" name.
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  const meta = { kid, alg: 'EdDSA', use: 'sig' }
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), ...meta }

  // The key directory (and any above it this makes) findable after a power cut, as the keys in it are (fsyncPath).
  makeDirDurable(nodeIo, values.out, { mkdir: (dir) => void mkdirSync(dir, { recursive: true, mode: 0o700 }) })
  const replace = values.force === true
  writeDurably(privatePath, `${JSON.stringify(privateJwk, null, 2)}\n`, { replace, mode: 0o600 })
  writeDurably(publicPath, `${JSON.stringify({ ...publicJwk, ...meta }, null, 2)}\n`, { replace, mode: 0o644 })
  fsyncPath(values.out)

  io.err(`wrote ${privatePath} (mode 0600) and ${publicPath}`)
  io.out(kid)
  return EXIT_OK
}

/**
 * Writes `text` to a temporary file beside `path`, synced, then puts it in place whole: renamed over the old file when
 * `replace` (--force), else linked to `path`, which fails if it exists. A crash or a full disk part way leaves the old
 * key (or no key) at `path`, never a truncated one; the key truncated and rewritten in place did.
 */
function writeDurably(path: string, text: string, options: { replace: boolean; mode: number }): void {
  const temporary = `${path}.${process.pid}.tmp`
  const fd = openSync(temporary, 'w', options.mode)
  try {
    // The mode given to open applies only to a new file, and only after the umask; set it explicitly.
    fchmodSync(fd, options.mode)
    writeSync(fd, text)
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    rmSync(temporary, { force: true })
    throw error
  }
  closeSync(fd)
  try {
    if (options.replace) renameSync(temporary, path)
    else linkSync(temporary, path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${path} already exists; pass --force to replace it`)
    throw error
  } finally {
    rmSync(temporary, { force: true })
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
