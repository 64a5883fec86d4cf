/**
 * The audit part of the document (routes/audit.ts): verify the live log, list its seals, seal the chain head now.
 * auditor and admin only (requireRole on /v1/audit/*).
 */

import { ANCHOR_BODY_SCHEMA, LIVE_VERIFY_BYTES_MAX_DEFAULT, SEALS_QUERY, SEALS_SCAN_RECORDS_MAX_DEFAULT } from '../routes/audit.ts'
import { errorResponse, integer, jsonAnswer, jsonContent, nullable, operation, queryParameters, record, ref, schemaOf, type DocumentPart } from './shared.ts'

const WHO = 'auditor, admin (others 403)'
/** A held segment file a read failed on (routes/audit.ts unreadableAsUnavailable): nothing was verified or listed. */
const SEGMENT_UNREADABLE = 'details.reason SEGMENT_UNREADABLE: a segment file of the log could not be read (EIO, EACCES, a directory under its name; details.file names it)'

export function auditPart(): DocumentPart {
  return {
    schemas: {
      AuditVerification: {
        type: 'object',
        required: ['method', 'report', 'runtime'],
        properties: {
          method: { type: 'string', enum: ['full', 'self-check'], description: `full: every byte read again; self-check: the log is above ${LIVE_VERIFY_BYTES_MAX_DEFAULT} bytes, so the runtime self-check brought up to the head answers instead` },
          note: { type: 'string', description: 'With self-check: why, and the CLI command for the full check on a copy of the directory' },
          report: { type: ['object', 'null'], description: 'What "egress audit verify --json" prints: ok, segments, records, bytes, firstLsn, lastLsn, chainHead, seals, anchors, tornTail, problems, firstProblem, …; null with self-check' },
          runtime: record({
            selfCheckEnabled: { type: 'boolean' },
            verified: { type: ['boolean', 'null'] },
            lastFinding: { type: ['object', 'null'], description: 'The first problem the self-check found (code, file, offsetBytes, lsn, detail)' },
            lastLsn: { type: 'integer' },
          }),
        },
      },
      Seal: {
        oneOf: [
          record({
            record_lsn: integer('LSN of the seal record'),
            sealed_lsn: integer('The LSN whose chain head it signs'),
            chain_head: { type: 'string', description: 'hex' },
            epoch: { type: 'integer' },
            kid: nullable('string', 'Key id of the signing key'),
            sealed_at_ms: { type: 'integer' },
            prev_seal_lsn: { type: ['integer', 'null'] },
            jws: { type: 'string', description: 'The signed seal (compact JWS); its signature is not checked here (verify does that)' },
          }),
          {
            type: 'object',
            required: ['record_lsn', 'malformed'],
            properties: { record_lsn: { type: 'integer' }, malformed: { type: 'string', description: 'Why it does not parse (a finding; never skipped)' }, jws: { type: 'string' } },
          },
        ],
      },
      Anchor: record(
        {
          lsn: integer('The LSN sealed'),
          chainHead: { type: 'string', description: 'hex' },
          seal: { type: 'string', description: 'The seal (compact JWS)' },
          sealRecordLsn: integer('LSN of the seal record'),
          sealedAtMs: integer("When the seal was signed (ms since the epoch; the seal's own sealedAtMs claim): older than the request when reused"),
          reused: {
            type: 'boolean',
            description:
              'True when nothing was appended since the last seal this gateway process wrote: that seal covers the log as it is and is the answer, unchanged (an idle log is not sealed again per call); false when this request wrote the seal',
          },
        },
        'The shape "egress audit anchor DIR" prints, plus sealedAtMs and reused; keep it outside the gateway ("egress audit verify --anchors" takes it back, ignoring the two)',
      ),
    },
    paths: {
      '/v1/audit/verify': {
        get: operation({
          tag: 'audit',
          summary: `Verify the live log independently: every CRC, the whole hash chain, every seal signature (damage found triggers the self-check's response). ${WHO}`,
          security: 'bearer',
          errors: ['401', '403'],
          responses: {
            '200': jsonAnswer('The verification and the runtime self-check state', ref('AuditVerification')),
            '429': errorResponse('RATE_LIMITED, details.scope audit_verify: full verifications have taken their share of the event loop (a time budget); retry after Retry-After'),
            '503': errorResponse(
              `UNAVAILABLE: the gateway is draining (Retry-After); or nothing was verified: ${SEGMENT_UNREADABLE}, or details.reason AUDIT_SELF_CHECK_FAILED: the log is above ${LIVE_VERIFY_BYTES_MAX_DEFAULT} bytes and the runtime self-check answering instead could not run (its thread stopped, a read failing)`,
            ),
          },
        }),
      },
      '/v1/audit/seals': {
        get: operation({
          tag: 'audit',
          summary: `The seal records in the log, oldest first, cursor pagination. ${WHO}`,
          security: 'bearer',
          errors: ['400', '401', '403'],
          responses: {
            '503': errorResponse(`UNAVAILABLE: the gateway is draining (Retry-After); or nothing was listed: ${SEGMENT_UNREADABLE}`),
            '409': errorResponse('The log is damaged where the page reads (details.reason LOG_DAMAGED, details.problem: code, file, offsetBytes, lsn, detail); the self-check\'s tamper response is engaged'),
            '200': jsonAnswer(
              `{ seals, next_cursor }: follow next_cursor until it is null; a page reads at most ${SEALS_SCAN_RECORDS_MAX_DEFAULT} log records, so a short or empty page may still have one`,
              record({ seals: { type: 'array', items: ref('Seal') }, next_cursor: nullable('string', 'The last LSN read: the next page starts after it; null at the end of the log') }),
            ),
          },
          parameters: queryParameters(SEALS_QUERY, { limit: 'Seals per page, 1–1000 (default 100)', cursor: 'next_cursor of the previous page' }),
        }),
      },
      '/v1/audit/anchor': {
        post: operation({
          tag: 'audit',
          summary: `Seal the chain head now (or, when nothing was appended since this process's last seal, return that seal: reused) and return the anchor to store outside the gateway (no body, or {}). ${WHO}`,
          security: 'bearer',
          errors: ['400', '401', '403', '413', '415', '429', '503'],
          requestBody: { required: false, content: jsonContent(schemaOf(ANCHOR_BODY_SCHEMA, 'Empty object or no body: an anchor takes no options')) },
          responses: {
            '200': jsonAnswer('The anchor', ref('Anchor')),
            '409': errorResponse('No seal signing key is configured (details.reason AUDIT_SIGNING_KEY_MISSING), or the log is empty (AUDIT_LOG_EMPTY)'),
          },
        }),
      },
    },
  }
}
