/**
 * The local seal key. The spec (004 §9) makes the seal's signature slot optional but the seal itself not, and a paper
 * or shadow gateway without `audit.signingKeyFile` wrote no seal at all (POST /v1/audit/anchor: 409
 * AUDIT_SIGNING_KEY_MISSING). So a single paper or shadow node with no key configured makes its own, once, like the
 * local HS256 secret: an Ed25519 pair in <dataDir>/audit/ (the private JWK 0600 in a 0700 directory, the public JWK
 * beside it for `egress audit verify --public-key`), read again at every later start.
 *
 * It is a key on the gateway's own disk, not one held in an HSM or KMS: whoever can rewrite the log can read it, so its
 * seals prove what the chain proves (no record changed without the chain recomputed) plus that the chain was not
 * recomputed by someone without the data directory. Anchors kept elsewhere, or a key of one's own, are what hold
 * against more. Live never gets one: its key is the operator's to configure.
 *
 * An HA node does not make one either: the nodes share one log, so a seal signed with one node's local key would not
 * verify with the other's after a takeover (the self-check would find SEAL_SIGNATURE_INVALID and halt).
 */

import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { JWK } from 'jose'
import { makeDirDurable, nodeIo } from '../../wal/index.ts'
import type { AuditConfig, Mode } from '../config/index.ts'
import { fsyncDirectory } from './files.ts'
import { generateSealKeyPair, jwkFileText, KeyFileExistsError, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, writeKeyFileDurably } from './key-pair.ts'
import { publicKeySource, readKeyJson } from './keys.ts'

/** Where a data directory's local seal key and its anchors live. */
export const AUDIT_DATA_DIR = 'audit'

export function localSealKeyPaths(dataDir: string): { privatePath: string; publicPath: string } {
  const dir = join(dataDir, AUDIT_DATA_DIR)
  return { privatePath: join(dir, PRIVATE_KEY_FILE), publicPath: join(dir, PUBLIC_KEY_FILE) }
}

/**
 * The audit config a single node starts with: as configured when it names a signing key or the mode is live; else
 * with `signingKeyFile` the data directory's local key, made now if there is none. The config's digest is taken
 * from the config as the operator wrote it, not from this.
 */
export async function withLocalSealKey(audit: AuditConfig, options: { dataDir: string; mode: Mode }): Promise<AuditConfig> {
  if (audit.signingKeyFile !== undefined || options.mode === 'live') return audit
  const { privatePath } = await ensureLocalSealKey(options.dataDir)
  return { ...audit, signingKeyFile: privatePath }
}

/**
 * Makes the local key pair unless its private file exists; writes the public file from the private one when it is
 * missing (a start that stopped between the two). Two processes at once agree on one key: the private file is linked
 * into place, and the loser of the race takes the winner's.
 */
export async function ensureLocalSealKey(dataDir: string): Promise<{ privatePath: string; publicPath: string; created: boolean }> {
  const { privatePath, publicPath } = localSealKeyPaths(dataDir)
  const dir = join(dataDir, AUDIT_DATA_DIR)
  let created = false
  if (!existsSync(privatePath)) {
    // audit/ (and a data dir the key is the first to need) findable after a power cut, as the key in it is.
    makeDirDurable(nodeIo, dir, { mkdir: (missing) => void mkdirSync(missing, { recursive: true, mode: 0o700 }), syncParentOfExisting: true })
    const pair = await generateSealKeyPair()
    created = linked(() => writeKeyFileDurably(privatePath, jwkFileText(pair.privateJwk), { replace: false, mode: 0o600 }))
    fsyncDirectory(dir)
  }
  if (!existsSync(publicPath)) {
    // From the file, whoever wrote it: its public half only (publicKeySource drops `d`).
    const source = publicKeySource(readKeyJson(privatePath) as JWK, privatePath)
    if (source.kind === 'jwk') linked(() => writeKeyFileDurably(publicPath, jwkFileText(source.jwk), { replace: false, mode: 0o644 }))
    fsyncDirectory(dir)
  }
  return { privatePath, publicPath, created }
}

/** Runs a write that links a file into place; false when another process's was there first. */
function linked(write: () => void): boolean {
  try {
    write()
    return true
  } catch (error) {
    if (error instanceof KeyFileExistsError) return false
    throw error
  }
}
