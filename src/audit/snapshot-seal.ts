/**
 * A snapshot seal: a compact JWS (EdDSA, Ed25519, the audit seal key) over SnapshotSealClaims — "the snapshot file at
 * LSN x, whose content digest is D, was taken where the chain head was H, by the writer of epoch e". DESIGN §3: after
 * a compaction, the chain is verified from the sealed head stored with the oldest retained snapshot, and a snapshot's
 * state is trusted only as far as its digest is signed. Its own typ, so it is never taken for a log seal (seal.ts) or
 * any other token signed by the same key.
 */

import * as v from 'valibot'
import type { SealKeyResolver, SealSigningKey } from './keys.ts'
import type { Decoded } from './records.ts'
import { readTypedJwsUnverified, signTypedJws, verifyTypedJws, type TypedClaims } from './typed-jws.ts'

export const SNAPSHOT_SEAL_JWS_TYP = 'egress-snapshot-seal+jws'

const HEX_HASH = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters'))

/** What a snapshot seal signs. `digest` is the file's content digest (its SHA-256 trailer: file.ts). */
export const SNAPSHOT_SEAL_CLAIMS_SCHEMA = v.strictObject({
  lsn: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER)),
  chainHead: HEX_HASH,
  digest: HEX_HASH,
  epoch: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffff_ffff)),
  sealedAtMs: v.pipe(v.number(), v.integer(), v.minValue(0)),
})
export type SnapshotSealClaims = v.InferOutput<typeof SNAPSHOT_SEAL_CLAIMS_SCHEMA>

export type VerifiedSnapshotSeal = TypedClaims<SnapshotSealClaims>

const SNAPSHOT_SEAL_KIND = { typ: SNAPSHOT_SEAL_JWS_TYP, claims: SNAPSHOT_SEAL_CLAIMS_SCHEMA }

export function signSnapshotSeal(claims: SnapshotSealClaims, signer: SealSigningKey): Promise<string> {
  return signTypedJws(claims, signer, SNAPSHOT_SEAL_JWS_TYP)
}

/** Verifies the signature (EdDSA only), the typ, then the claims. Never throws: a bad seal is a finding. */
export function verifySnapshotSeal(jws: string, keys: SealKeyResolver): Promise<Decoded<VerifiedSnapshotSeal>> {
  return verifyTypedJws(jws, keys, SNAPSHOT_SEAL_KIND)
}

/** The claims read without checking the signature (no key at hand): the structure and typ still are. */
export function readSnapshotSealUnverified(jws: string): Decoded<VerifiedSnapshotSeal> {
  return readTypedJwsUnverified(jws, SNAPSHOT_SEAL_KIND)
}

/** Whether verified claims describe the snapshot `file` (its header's LSN and head, its content digest); else why not. */
export function snapshotSealMismatch(claims: SnapshotSealClaims, file: { lsn: number; chainHead: string; digest: string }): string | null {
  if (claims.lsn !== file.lsn) return `the seal signs LSN ${claims.lsn}, the snapshot is at ${file.lsn}`
  if (claims.digest !== file.digest) return `the seal signs content digest ${claims.digest}, the file's is ${file.digest} (state edited, digest recomputed)`
  if (claims.chainHead !== file.chainHead) return `the seal signs chain head ${claims.chainHead}, the snapshot's header says ${file.chainHead}`
  return null
}
