/**
 * A seal is a compact JWS (EdDSA, Ed25519) over SealClaims: "the chain head at LSN x was H, signed by the writer of
 * epoch e at time t, after the seal at LSN p". The header carries the key's kid and a typ naming the format, so a seal
 * cannot be confused with any other token signed by the same key.
 */

import { SEAL_CLAIMS_SCHEMA, type Decoded, type SealClaims } from './records.ts'
import type { SealKeyResolver, SealSigningKey } from './keys.ts'
import { readTypedJwsUnverified, signTypedJws, verifyTypedJws, type TypedClaims } from './typed-jws.ts'

export const SEAL_JWS_TYP = 'egress-seal+jws'

const SEAL_KIND = { typ: SEAL_JWS_TYP, claims: SEAL_CLAIMS_SCHEMA }

export function signSeal(claims: SealClaims, signer: SealSigningKey): Promise<string> {
  return signTypedJws(claims, signer, SEAL_JWS_TYP)
}

export type VerifiedSeal = TypedClaims<SealClaims>

/** Verifies the signature (EdDSA only) and then the claims. Never throws: a bad seal is a finding. */
export function verifySeal(jws: string, keys: SealKeyResolver): Promise<Decoded<VerifiedSeal>> {
  return verifyTypedJws(jws, keys, SEAL_KIND)
}

/** Reads the claims without checking the signature: for listing seals and for verifiers run without a key. */
export function readSealUnverified(jws: string): Decoded<VerifiedSeal> {
  return readTypedJwsUnverified(jws, SEAL_KIND)
}
