/**
 * The compact JWS every egress statement signed with the audit seal key is: EdDSA (Ed25519) over a JSON claims object,
 * its header carrying the key's kid and a typ naming the statement's kind, so one kind is never taken for another
 * signed by the same key. Log seals (seal.ts) and snapshot seals (snapshot-seal.ts) are two kinds.
 */

import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose'
import type * as v from 'valibot'
import type { SealKeyResolver, SealSigningKey } from './keys.ts'
import { decodeJson, type Decoded } from './records.ts'

/** One kind of statement: the typ its header carries and the schema its claims follow. */
export interface JwsKind<TSchema extends v.GenericSchema> {
  typ: string
  claims: TSchema
}

/** A statement whose claims were read (and, by verifyTypedJws, whose signature held), with the kid it names. */
export interface TypedClaims<T> {
  claims: T
  kid: string | undefined
}

const encoder = new TextEncoder()

export async function signTypedJws(claims: object, signer: SealSigningKey, typ: string): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'EdDSA', kid: signer.kid, typ })
    .sign(signer.key)
}

/** Verifies the signature (EdDSA only), the typ, then the claims. Never throws: a bad statement is a finding. */
export async function verifyTypedJws<TSchema extends v.GenericSchema>(jws: string, keys: SealKeyResolver, kind: JwsKind<TSchema>): Promise<Decoded<TypedClaims<v.InferOutput<TSchema>>>> {
  let payload: Uint8Array
  let kid: string | undefined
  try {
    const result = await compactVerify(jws, keys, { algorithms: ['EdDSA'] })
    if (result.protectedHeader.typ !== kind.typ) {
      return { ok: false, reason: `header typ ${String(result.protectedHeader.typ)}, expected ${kind.typ}` }
    }
    payload = result.payload
    kid = result.protectedHeader.kid
  } catch (error) {
    return { ok: false, reason: `signature does not verify (${error instanceof Error ? error.message : String(error)})` }
  }
  const claims = decodeJson(kind.claims, payload)
  return claims.ok ? { ok: true, value: { claims: claims.value, kid } } : claims
}

/** Reads the claims without checking the signature (no key at hand): the header's alg and typ and the claims still are. */
export function readTypedJwsUnverified<TSchema extends v.GenericSchema>(jws: string, kind: JwsKind<TSchema>): Decoded<TypedClaims<v.InferOutput<TSchema>>> {
  const [header, body] = jws.split('.')
  if (header === undefined || body === undefined) return { ok: false, reason: 'not a compact JWS' }
  let kid: string | undefined
  try {
    const protectedHeader = decodeProtectedHeader(jws)
    if (protectedHeader.alg !== 'EdDSA' || protectedHeader.typ !== kind.typ) {
      return { ok: false, reason: `header alg ${String(protectedHeader.alg)} typ ${String(protectedHeader.typ)}, expected EdDSA ${kind.typ}` }
    }
    kid = protectedHeader.kid
  } catch (error) {
    return { ok: false, reason: `header does not decode (${error instanceof Error ? error.message : String(error)})` }
  }
  const claims = decodeJson(kind.claims, new Uint8Array(Buffer.from(body, 'base64url')))
  return claims.ok ? { ok: true, value: { claims: claims.value, kid } } : claims
}
