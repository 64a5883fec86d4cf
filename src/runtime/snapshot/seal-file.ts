/**
 * A snapshot's seal on disk: a sidecar file beside it, `snapshot-<lsn>.snap.seal`, holding the JWS (audit/snapshot-seal.ts)
 * that signs the snapshot's LSN, chain head at that LSN, content digest and epoch.
 *
 * Why a sidecar and not a member of the snapshot file: the file's header is covered by its content digest, which the
 * seal signs, so the seal cannot sit inside what it signs; and a new member after the digest would be a format break
 * (an older build refuses a file whose digest trailer is not its last 32 bytes). A sidecar leaves every snapshot file,
 * old or new, readable by every build, and a snapshot written by an older build, or by a node with no seal key, is
 * simply unsealed. It is written like the snapshot (store-write.ts: temp file, fsync, rename, directory fsync), after
 * the snapshot is durable and before the manifest lists it; a crash between the two leaves an unsealed snapshot.
 *
 * What a start does with it (load.ts): a snapshot whose seal is present and does not hold (malformed, its signature
 * failing with the keys at hand, or signing another digest, LSN or head) is refused like a damaged file (SEAL_INVALID)
 * and the next candidate tried; a snapshot with no seal is used as before.
 */

import { calculateJwkThumbprint, exportJWK } from 'jose'
import type { WalIo } from '../../../wal/index.ts'
import type { SealKeyResolver } from '../../audit/keys.ts'
import type { Decoded } from '../../audit/records.ts'
import { readSnapshotSealUnverified, snapshotSealMismatch, verifySnapshotSeal, type VerifiedSnapshotSeal } from '../../audit/snapshot-seal.ts'
import { SnapshotError, type SnapshotContent } from './file.ts'

export const SEAL_SUFFIX = '.seal'
const SEAL_FILE_FORMAT = 'egress.snapshot-seal'
/** A seal file holds one JWS (~500 bytes); anything larger is not ours and is not read whole. */
const SEAL_FILE_BYTES_MAX = 16 * 1024

/** The sidecar's name for a snapshot file's name. */
export function sealFileName(snapshotFile: string): string {
  return snapshotFile + SEAL_SUFFIX
}

export function encodeSealFile(jws: string): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify({ format: SEAL_FILE_FORMAT, version: 1, jws })}\n`)
}

/** A sidecar as read: none, its JWS, or why it is not one. */
export type SealFileRead = { kind: 'absent' } | { kind: 'present'; jws: string } | { kind: 'damaged'; reason: string }

export function readSealFile(io: WalIo, path: string): SealFileRead {
  if (!io.exists(path)) return { kind: 'absent' }
  let bytes: Uint8Array
  try {
    const fd = io.openRead(path)
    try {
      const size = io.sizeBytes(fd)
      if (size > SEAL_FILE_BYTES_MAX) return { kind: 'damaged', reason: `${size} bytes, larger than any seal file (${SEAL_FILE_BYTES_MAX})` }
      bytes = new Uint8Array(size)
      let filled = 0
      for (let count = 1; filled < size && count > 0; filled += count) count = io.read(fd, bytes.subarray(filled), filled)
      if (filled !== size) return { kind: 'damaged', reason: `read ${filled} of ${size} bytes` }
    } finally {
      io.close(fd)
    }
  } catch (error) {
    return { kind: 'damaged', reason: `cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})` }
  }
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as { format?: unknown; version?: unknown; jws?: unknown }
    if (value.format !== SEAL_FILE_FORMAT || value.version !== 1 || typeof value.jws !== 'string') return { kind: 'damaged', reason: 'not a snapshot seal file (format, version or jws)' }
    return { kind: 'present', jws: value.jws }
  } catch {
    return { kind: 'damaged', reason: 'not UTF-8 JSON' }
  }
}

/**
 * What a snapshot's seal says, by snapshot file name, for every candidate that has one: its claims (signature checked
 * when `keys` are given, else read as they are) or why it does not hold. A file absent from the map has no seal.
 * Asynchronous (jose verifies asynchronously), so it is worked out before the synchronous load (load.ts) uses it.
 */
export type SnapshotSealVerdicts = ReadonlyMap<string, Decoded<VerifiedSnapshotSeal>>

export async function sealVerdictsOf(
  sidecars: Iterable<{ file: string; read: SealFileRead }>,
  keys: SealKeyResolver | null,
  options: SealKeyPolicy = { unknownKey: 'refuse' },
): Promise<SnapshotSealVerdicts> {
  const verdicts = new Map<string, Decoded<VerifiedSnapshotSeal>>()
  for (const { file, read } of sidecars) {
    const verified = read.kind === 'present' && keys !== null && (options.unknownKey === 'refuse' || (await keyKnown(keys, read.jws)))
    const verdict = verified && read.kind === 'present' && keys !== null ? await verifySnapshotSeal(read.jws, keys) : unverifiedVerdict(read)
    if (verdict !== undefined) verdicts.set(file, verdict)
  }
  return verdicts
}

/**
 * What a seal signed by a key the verifier does not hold is: a finding (`refuse`: the offline verifiers, whose keys
 * should be the whole set), or read for its structure and claims only, as with no key at hand (`unverified`: a start,
 * and the offline snapshot's base). Refused at a start it would protect nothing — whoever can write a seal can remove
 * it, and an unsealed snapshot is used — while a key rotation that left the old public key out of
 * `audit.publicKeyFile` would refuse every snapshot, and a compacted log could then not start at all.
 */
export interface SealKeyPolicy {
  unknownKey: 'refuse' | 'unverified'
}

/**
 * Whether `keys` resolves the key that signed `jws` (its header's kid); false for a header that does not decode. A
 * resolver that answers any kid (one public JWK with no kid: setup.ts takes it) names no key by it, so its key counts
 * as the signer's only when its RFC 7638 thumbprint is the header's kid (egress keygen's kid): answering the old key's
 * kid with the new key, a rotation's every seal failed its signature and was refused.
 */
async function keyKnown(keys: SealKeyResolver, jws: string): Promise<boolean> {
  try {
    const [header] = jws.split('.')
    if (header === undefined) return false
    const protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Parameters<SealKeyResolver>[0]
    const token = { payload: '', signature: '', protected: header } as Parameters<SealKeyResolver>[1]
    const key = await keys(protectedHeader, token)
    if (protectedHeader.kid === undefined || !(await answersAnyKid(keys, protectedHeader, token))) return true
    return (await calculateJwkThumbprint(await exportJWK(key as Parameters<typeof exportJWK>[0]), 'sha256')) === protectedHeader.kid
  } catch {
    return false
  }
}

/** A kid no key carries: a resolver that answers it with a key does not choose keys by kid. */
const NO_SUCH_KID = 'egress:no-such-kid'

async function answersAnyKid(keys: SealKeyResolver, header: Parameters<SealKeyResolver>[0], token: Parameters<SealKeyResolver>[1]): Promise<boolean> {
  try {
    await keys({ ...header, kid: NO_SUCH_KID }, token)
    return true
  } catch {
    return false
  }
}

/** One seal's verdict without its signature checked (no key at hand, or a synchronous caller): structure and claims. */
export function unverifiedVerdict(read: SealFileRead): Decoded<VerifiedSnapshotSeal> | undefined {
  if (read.kind === 'absent') return undefined
  return read.kind === 'damaged' ? { ok: false, reason: read.reason } : readSnapshotSealUnverified(read.jws)
}

/** Throws SnapshotError SEAL_INVALID when `file` has a seal that does not hold for `content`; nothing without one. */
export function checkSnapshotSeal(verdicts: SnapshotSealVerdicts | undefined, file: string, content: Pick<SnapshotContent, 'header' | 'digest'>): void {
  const verdict = verdicts?.get(file)
  if (verdict === undefined) return
  if (!verdict.ok) throw new SnapshotError('SEAL_INVALID', `its seal ${sealFileName(file)} does not hold: ${verdict.reason}`)
  const mismatch = snapshotSealMismatch(verdict.value.claims, { lsn: content.header.lsn, chainHead: content.header.chainHead, digest: content.digest })
  if (mismatch !== null) throw new SnapshotError('SEAL_INVALID', `its seal ${sealFileName(file)} does not match it: ${mismatch}`)
}
