/**
 * A seal is a compact JWS (EdDSA, Ed25519) over SealClaims: "the chain head at LSN x was H, signed by the writer of
 * epoch e at time t, after the seal at LSN p". The header carries the key's kid and a typ naming the format, so a seal
 * cannot be confused with any other token signed by the same key.
 */

import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose'
import { decodeJson, SEAL_CLAIMS_SCHEMA, type Decoded, type SealClaims } from './records.ts'
import type { SealKeyResolver, SealSigningKey } from './keys.ts'

export const SEAL_JWS_TYP = 'egress-seal+jws'

const encoder = new TextEncoder()

export async function signSeal(claims: SealClaims, signer: SealSigningKey): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'EdDSA', kid: signer.kid, typ: SEAL_JWS_TYP })
    .sign(signer.key)
}

export interface VerifiedSeal {
  claims: SealClaims
  kid: string | undefined
}

/** Verifies the signature (EdDSA only) and then the claims. Never throws: a bad seal is a finding. */
export async function verifySeal(jws: string, keys: SealKeyResolver): Promise<Decoded<VerifiedSeal>> {
  let payload: Uint8Array
  let kid: string | undefined
  try {
    const result = await compactVerify(jws, keys, { algorithms: ['EdDSA'] })
    if (result.protectedHeader.typ !== SEAL_JWS_TYP) {
      return { ok: false, reason: `header typ ${String(result.protectedHeader.typ)}, expected ${SEAL_JWS_TYP}` }
    }
    payload = result.payload
    kid = result.protectedHeader.kid
  } catch (error) {
    return { ok: false, reason: `signature does not verify (${error instanceof Error ? error.message : String(error)})` }
  }
  const claims = decodeJson(SEAL_CLAIMS_SCHEMA, payload)
  return claims.ok ? { ok: true, value: { claims: claims.value, kid } } : claims
}

/** Reads the claims without checking the signature: for listing seals and for verifiers run without a key. */
export function readSealUnverified(jws: string): Decoded<VerifiedSeal> {
  const [header, body] = jws.split('.')
  if (header === undefined || body === undefined) return { ok: false, reason: 'not a compact JWS' }
  let kid: string | undefined
  try {
    const protectedHeader = decodeProtectedHeader(jws)
    if (protectedHeader.alg !== 'EdDSA' || protectedHeader.typ !== SEAL_JWS_TYP) {
      return { ok: false, reason: `header alg ${String(protectedHeader.alg)} typ ${String(protectedHeader.typ)}, expected EdDSA ${SEAL_JWS_TYP}` }
    }
    kid = protectedHeader.kid
  } catch (error) {
    return { ok: false, reason: `header does not decode (${error instanceof Error ? error.message : String(error)})` }
  }
  const claims = decodeJson(SEAL_CLAIMS_SCHEMA, new Uint8Array(Buffer.from(body, 'base64url')))
  return claims.ok ? { ok: true, value: { claims: claims.value, kid } } : claims
}
