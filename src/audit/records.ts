/**
 * Audit's log records. Type codes from 0xA000 up are reserved for audit (src/runtime/records.ts routes them here;
 * the kernel does not fold them into its state). Payloads are JSON, validated with valibot on read: a record that
 * does not parse is itself a finding, never skipped.
 *
 *   0xA001 audit.seal            v1  { jws }  — a compact JWS (EdDSA) over SealClaims
 *   0xA002 audit.tamper_detected v1  TamperFinding — what a self-check found and how the gateway responded
 */

import * as v from 'valibot'
import type { RecordInput } from '../../wal/index.ts'
import { AUDIT_PROBLEM_CODES, type AuditProblemCode } from './codes.ts'

export const AUDIT_RECORD_TYPE_MIN = 0xa000
export const AUDIT_SEAL = { type: 0xa001, version: 1, name: 'audit.seal' } as const
export const AUDIT_TAMPER_DETECTED = { type: 0xa002, version: 1, name: 'audit.tamper_detected' } as const

/** Bounds on what a seal record may hold; a JWS over the claims below is ~400 bytes. */
export const SEAL_JWS_CHARS_MAX = 4_096
const HEX_HASH = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters'))
const LSN = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER))

/** What a seal signs: the chain head at `lsn`, by the writer of `epoch`, linked to the previous seal record. */
export const SEAL_CLAIMS_SCHEMA = v.strictObject({
  lsn: v.pipe(LSN, v.minValue(1)),
  chainHead: HEX_HASH,
  epoch: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffff_ffff)),
  sealedAtMs: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** The LSN of the previous seal record in this log; 0 for the first seal. */
  prevSealLsn: LSN,
})
export type SealClaims = v.InferOutput<typeof SEAL_CLAIMS_SCHEMA>

export const SEAL_RECORD_SCHEMA = v.strictObject({
  jws: v.pipe(v.string(), v.maxLength(SEAL_JWS_CHARS_MAX), v.regex(/^[\w-]+\.[\w-]+\.[\w-]+$/, 'expected a compact JWS')),
})

export const TAMPER_RESPONSES = ['HALT', 'CANCEL_ONLY'] as const
export type TamperResponse = (typeof TAMPER_RESPONSES)[number]

export const TAMPER_FINDING_SCHEMA = v.strictObject({
  code: v.picklist(problemCodes()),
  lsn: LSN,
  file: v.pipe(v.string(), v.maxLength(4_096)),
  offsetBytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  detail: v.pipe(v.string(), v.maxLength(4_096)),
  detectedAtMs: v.pipe(v.number(), v.integer(), v.minValue(0)),
  response: v.picklist(TAMPER_RESPONSES),
  /** Where the forensics bundle was written, if it was. */
  bundleDir: v.optional(v.pipe(v.string(), v.maxLength(4_096))),
})
export type TamperFinding = v.InferOutput<typeof TAMPER_FINDING_SCHEMA>

function problemCodes(): AuditProblemCode[] {
  const walCodes: AuditProblemCode[] = [
    'FRAME_CORRUPT', 'SEGMENT_HEADER_CORRUPT', 'SEGMENT_MISSING', 'SEGMENT_TRAILING_BYTES', 'LSN_GAP', 'CHAIN_BREAK',
    'EPOCH_REGRESSION', 'LOG_EMPTY_WITH_SEGMENTS',
  ]
  return [...walCodes, ...AUDIT_PROBLEM_CODES]
}

export function isAuditRecordType(type: number): boolean {
  return type >= AUDIT_RECORD_TYPE_MIN
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function sealRecord(jws: string): RecordInput {
  return { type: AUDIT_SEAL.type, version: AUDIT_SEAL.version, payload: encoder.encode(JSON.stringify({ jws })) }
}

export function tamperRecord(finding: TamperFinding): RecordInput {
  const checked = v.parse(TAMPER_FINDING_SCHEMA, finding)
  return { type: AUDIT_TAMPER_DETECTED.type, version: AUDIT_TAMPER_DETECTED.version, payload: encoder.encode(JSON.stringify(checked)) }
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string }

/** Reads a seal record's payload; the JWS inside is checked separately (seal.ts). */
export function decodeSealRecord(version: number, payload: Uint8Array): Decoded<{ jws: string }> {
  if (version !== AUDIT_SEAL.version) return { ok: false, reason: `seal record version ${version}, this build reads ${AUDIT_SEAL.version}` }
  return decodeJson(SEAL_RECORD_SCHEMA, payload)
}

export function decodeTamperRecord(version: number, payload: Uint8Array): Decoded<TamperFinding> {
  if (version !== AUDIT_TAMPER_DETECTED.version) {
    return { ok: false, reason: `tamper record version ${version}, this build reads ${AUDIT_TAMPER_DETECTED.version}` }
  }
  return decodeJson(TAMPER_FINDING_SCHEMA, payload)
}

export function decodeJson<TSchema extends v.GenericSchema>(schema: TSchema, payload: Uint8Array): Decoded<v.InferOutput<TSchema>> {
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(payload))
  } catch (error) {
    return { ok: false, reason: `not UTF-8 JSON (${error instanceof Error ? error.message : String(error)})` }
  }
  const result = v.safeParse(schema, parsed)
  if (result.success) return { ok: true, value: result.output }
  const issue = result.issues[0]
  return { ok: false, reason: `${v.getDotPath(issue) ?? '(root)'}: ${issue.message}` }
}
