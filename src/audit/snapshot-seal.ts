/**
 * A snapshot seal: a compact JWS (EdDSA, Ed25519, the audit seal key) over SnapshotSealClaims — "the snapshot file at
 * LSN x, whose content digest is D, was taken where the chain head was H, by the writer of epoch e". DESIGN §3: after
 * a compaction, the chain is verified from the sealed head stored with the oldest retained snapshot, and a snapshot's
 * state is trusted only as far as its digest is signed. Its own typ, so it is never taken for a log seal (seal.ts) or
 * any other token signed by the same key.
 */

import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose'
import * as v from 'valibot'
import type { SealKeyResolver, SealSigningKey } from './keys.ts'
import { decodeJson, type Decoded } from './records.ts'

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

export interface VerifiedSnapshotSeal {
  claims: SnapshotSealClaims
  kid: string | undefined
}

const encoder = new TextEncoder()

export async function signSnapshotSeal(claims: SnapshotSealClaims, signer: SealSigningKey): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'EdDSA', kid: signer.kid, typ: SNAPSHOT_SEAL_JWS_TYP })
    .sign(signer.key)
}

/** Verifies the signature (EdDSA only), the typ, then the claims. Never throws: a bad seal is a finding. */
export async function verifySnapshotSeal(jws: string, keys: SealKeyResolver): Promise<Decoded<VerifiedSnapshotSeal>> {
  try {
    const result = await compactVerify(jws, keys, { algorithms: ['EdDSA'] })
    if (result.protectedHeader.typ !== SNAPSHOT_SEAL_JWS_TYP) {
      return { ok: false, reason: `header typ ${String(result.protectedHeader.typ)}, expected ${SNAPSHOT_SEAL_JWS_TYP}` }
    }
    const claims = decodeJson(SNAPSHOT_SEAL_CLAIMS_SCHEMA, result.payload)
    return claims.ok ? { ok: true, value: { claims: claims.value, kid: result.protectedHeader.kid } } : claims
  } catch (error) {
    return { ok: false, reason: `signature does not verify (${error instanceof Error ? error.message : String(error)})` }
  }
}

/** The claims read without checking the signature (no key at hand): the structure and typ still are. */
export function readSnapshotSealUnverified(jws: string): Decoded<VerifiedSnapshotSeal> {
  const body = jws.split('.')[1]
  if (body === undefined) return { ok: false, reason: 'not a compact JWS' }
  let kid: string | undefined
  try {
    const header = decodeProtectedHeader(jws)
    if (header.alg !== 'EdDSA' || header.typ !== SNAPSHOT_SEAL_JWS_TYP) {
      return { ok: false, reason: `header alg ${String(header.alg)} typ ${String(header.typ)}, expected EdDSA ${SNAPSHOT_SEAL_JWS_TYP}` }
    }
    kid = header.kid
  } catch (error) {
    return { ok: false, reason: `header does not decode (${error instanceof Error ? error.message : String(error)})` }
  }
  const claims = decodeJson(SNAPSHOT_SEAL_CLAIMS_SCHEMA, new Uint8Array(Buffer.from(body, 'base64url')))
  return claims.ok ? { ok: true, value: { claims: claims.value, kid } } : claims
}

/** Whether verified claims describe the snapshot `file` (its header's LSN and head, its content digest); else why not. */
export function snapshotSealMismatch(claims: SnapshotSealClaims, file: { lsn: number; chainHead: string; digest: string }): string | null {
  if (claims.lsn !== file.lsn) return `the seal signs LSN ${claims.lsn}, the snapshot is at ${file.lsn}`
  if (claims.digest !== file.digest) return `the seal signs content digest ${claims.digest}, the file's is ${file.digest} (state edited, digest recomputed)`
  if (claims.chainHead !== file.chainHead) return `the seal signs chain head ${claims.chainHead}, the snapshot's header says ${file.chainHead}`
  return null
}
