/**
 * `egress keygen`: an Ed25519 key pair for audit seals (DESIGN §7) as JWK files. The private key is written with
 * mode 0600 into a directory created with 0700; both files are fsynced, then the directory. The key id is the
 * RFC 7638 thumbprint, so the same key always has the same kid.
 */

import { existsSync, lstatSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fsyncDirectory, generateSealKeyPair, jwkFileText, KeyPathNotAFileError, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, writeKeyFileDurably } from '../audit/index.ts'
import { makeDirDurable, nodeIo } from '../../wal/index.ts'
import { EXIT_OK, parseOptions, UsageError, type CliIo, type Command } from './command.ts'

export { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../audit/index.ts'

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
  // Checked up front so a refusal leaves neither file half-replaced. A directory (or anything but a file or a link)
  // where a key file goes was found only by the rename under --force: node's bare EISDIR, after the private key had
  // already replaced the old one when it was the public file's path that was taken.
  for (const path of [privatePath, publicPath]) {
    const kind = nonFileAt(path)
    if (kind !== null) throw new KeyPathNotAFileError(path, kind)
  }
  if (values.force !== true) {
    for (const path of [privatePath, publicPath]) {
      if (existsSync(path)) throw new Error(`${path} already exists; pass --force to replace it`)
    }
  }

  const { kid, privateJwk, publicJwk } = await generateSealKeyPair()

  // The key directory (and any above it this makes) findable after a power cut, as the keys in it are (fsyncDirectory).
  makeDirDurable(nodeIo, values.out, { mkdir: (dir) => void mkdirSync(dir, { recursive: true, mode: 0o700 }) })
  const replace = values.force === true
  writeKeyFileDurably(privatePath, jwkFileText(privateJwk), { replace, mode: 0o600 })
  writeKeyFileDurably(publicPath, jwkFileText(publicJwk), { replace, mode: 0o644 })
  fsyncDirectory(values.out)

  io.err(`wrote ${privatePath} (mode 0600) and ${publicPath}`)
  io.out(kid)
  return EXIT_OK
}

/** What is at `path` when it is neither a file nor a symbolic link ('a directory', …); null when nothing is, or one is. */
function nonFileAt(path: string): string | null {
  let stats
  try {
    stats = lstatSync(path)
  } catch {
    return null // nothing there: the key file is made (or its write says why not)
  }
  if (stats.isFile() || stats.isSymbolicLink()) return null
  return stats.isDirectory() ? 'a directory' : 'not a regular file'
}
