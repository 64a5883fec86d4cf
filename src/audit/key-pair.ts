/**
 * Making a seal key pair and putting its files on disk, for `egress keygen` and for the local key a paper or shadow
 * gateway makes itself (local-key.ts). The key id is the RFC 7638 thumbprint, so the same key always has the same kid.
 */

import { closeSync, fchmodSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'

export const PRIVATE_KEY_FILE = 'seal-ed25519.private.jwk.json'
export const PUBLIC_KEY_FILE = 'seal-ed25519.public.jwk.json'

export interface SealKeyPair {
  kid: string
  privateJwk: JWK
  publicJwk: JWK
}

/** A new Ed25519 pair as JWKs, both carrying kid, alg and use. */
export async function generateSealKeyPair(): Promise<SealKeyPair> {
  // "EdDSA" with crv Ed25519 is what every JOSE library understands; jose also knows the newer "Ed25519" name.
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  const meta = { kid, alg: 'EdDSA', use: 'sig' }
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), ...meta }, publicJwk: { ...publicJwk, ...meta } }
}

/** A JWK as its file holds it. */
export function jwkFileText(jwk: JWK): string {
  return `${JSON.stringify(jwk, null, 2)}\n`
}

/** `path` already existed and `replace` was not asked for. */
export class KeyFileExistsError extends Error {
  override readonly name = 'KeyFileExistsError'
  constructor(readonly path: string) {
    super(`${path} already exists; pass --force to replace it`)
  }
}

/** `path`, where a key file goes, holds a directory or something else that is not a file: nothing is written there. */
export class KeyPathNotAFileError extends Error {
  override readonly name = 'KeyPathNotAFileError'
  readonly code = 'KEY_PATH_NOT_A_FILE'
  constructor(
    readonly path: string,
    kind: string,
  ) {
    super(`KEY_PATH_NOT_A_FILE: ${path} is ${kind}, not a key file; move it away or give another directory (no key was written)`)
  }
}

/**
 * Writes `text` to a temporary file beside `path`, synced, then puts it in place whole: renamed over the old file when
 * `replace`, else linked to `path`, which fails if it exists (KeyFileExistsError). A crash or a full disk part way
 * leaves the old key (or no key) at `path`, never a truncated one; the key truncated and rewritten in place did. The
 * caller fsyncs the directory.
 */
export function writeKeyFileDurably(path: string, text: string, options: { replace: boolean; mode: number }): void {
  const temporary = `${path}.${process.pid}.tmp`
  const fd = openSync(temporary, 'w', options.mode)
  try {
    // The mode given to open applies only to a new file, and only after the umask; set it explicitly.
    fchmodSync(fd, options.mode)
    writeSyncWhole(fd, text)
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
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyFileExistsError(path)
    throw error
  } finally {
    rmSync(temporary, { force: true })
  }
}

function writeSyncWhole(fd: number, text: string): void {
  const bytes = new TextEncoder().encode(text)
  let written = 0
  while (written < bytes.byteLength) written += writeSync(fd, bytes, written)
}
