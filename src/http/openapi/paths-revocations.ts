/** The token revocation part of the document (routes/revocations.ts): revoke (admin) and list (ops, auditor, admin). */

import { REVOCATION_BODY_SCHEMA } from '../routes/revocations.ts'
import { errorResponse, jsonAnswer, jsonContent, operation, schemaOf, type DocumentPart } from './shared.ts'

const REVOCATION = {
  type: 'object',
  description:
    'kind token (jti) or subject (sub, issued_before_ms, iat_only_from_ms: from when a new token without iat_ms — whole-second iat only — is accepted); until_ms, revoked_at_ms, revoked_by, note, lsn',
  properties: { kind: { type: 'string', enum: ['token', 'subject'] }, until_ms: { type: 'integer' }, lsn: { type: 'integer' } },
}

export function revocationsPart(): DocumentPart {
  return {
    schemas: {},
    paths: {
      '/v1/admin/revocations': {
        post: operation({
          tag: 'admin',
          summary:
            "Revoke one token (jti) or a subject's tokens issued before issued_before_ms (default now), until until_ms (default and at most now + 30 days and 10 minutes, so it cannot lapse before a token the gateway takes: 30 days after its iat, plus the clock tolerance twice): recorded (auth.token_revoked / auth.subject_revoked) before the answer; the token then gets 401 TOKEN_REVOKED. admin",
          description:
            'Reads no Idempotency-Key (one sent is ignored): each request, a repeat too, is a record of its own. A repeat for the same token or subject widens the entry (the later until_ms and issued_before_ms), never narrows it; with their defaults (relative to now) a repeat lengthens the revocation, and for a subject also revokes the tokens issued between the two requests.',
          security: 'bearer',
          errors: ['400', '401', '403', '413', '415', '429', '503'],
          responses: {
            '200': jsonAnswer('Recorded: the revocation as this decision left it', { type: 'object', properties: { revocation: REVOCATION, lsn: { type: ['integer', 'null'] } } }),
            '409': errorResponse('REVOCATIONS_FULL: 10 000 revocations are in force (each leaves when its until_ms passes)'),
          },
          requestBody: { required: true, content: jsonContent(schemaOf(REVOCATION_BODY_SCHEMA)) },
        }),
        get: operation({
          tag: 'admin',
          summary: 'The revocations in force (until_ms not passed). ops, auditor, admin',
          security: 'bearer',
          errors: ['401', '403', '503'],
          responses: {
            '200': jsonAnswer('{ revocations, count, entries_max }', {
              type: 'object',
              properties: { revocations: { type: 'array', items: REVOCATION }, count: { type: 'integer' }, entries_max: { type: 'integer' } },
            }),
          },
        }),
      },
    },
  }
}
