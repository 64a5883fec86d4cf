/**
 * The venue health part of the document (routes/venue-health.ts): the read for operators and the emergency override's
 * propose, approve and revoke.
 */

import { OVERRIDE_APPROVE_BODY_SCHEMA, OVERRIDE_PROPOSE_BODY_SCHEMA, OVERRIDE_REVOKE_BODY_SCHEMA } from '../routes/venue-health.ts'
import { errorResponse, idParam, jsonAnswer, jsonContent, operation, schemaOf, type DocumentPart, type Json } from './shared.ts'

const VENUE = idParam('venue', 'Venue name (sim, or a configured FIX venue)')
const LSN = { type: ['integer', 'null'], description: 'LSN of the record the command wrote' }
const OVERRIDE_ANSWER = jsonAnswer('Recorded: the venue and its override as this decision left it', {
  type: 'object',
  properties: { venue: { type: 'string' }, override: { type: ['object', 'null'] }, lsn: LSN },
})

/** `bodyRequired` false: an empty body reads as `{}` (revoke's note is optional), as the kill switches document theirs. */
function overrideOperation(summary: string, body: Json, conflicts: Record<string, Json>, bodyRequired = true): Json {
  return operation({
    tag: 'admin',
    summary,
    security: 'bearer',
    errors: ['400', '401', '403', '413', '415', '429', '503'],
    parameters: [VENUE],
    responses: { '200': OVERRIDE_ANSWER, '404': errorResponse('VENUE_UNKNOWN: no instrument is configured on this venue (OVERRIDE_NOT_FOUND on revoke: nothing to revoke)'), ...conflicts },
    requestBody: { required: bodyRequired, content: jsonContent(body) },
  })
}

export function venueHealthPart(): DocumentPart {
  return {
    schemas: {},
    paths: {
      '/v1/venue_health': {
        get: operation({
          tag: 'admin',
          summary: "Each venue's recorded health level (what I-100 check 8 decides on), the record that set it, its emergency override, and the live scoring behind it. ops, admin, auditor",
          security: 'bearer',
          errors: ['401', '403', '503'],
          responses: { '200': jsonAnswer('{ venues: [...] }', { type: 'object', properties: { venues: { type: 'array', items: { type: 'object' } } } }) },
        }),
      },
      '/v1/admin/venues/{venue}/override': {
        post: overrideOperation(
          "Propose an emergency override of the venue's CRITICAL level (reason, duration_ms up to venueHealth.overrideMsMax, scope reduce_only or all); in force once a second admin approves. admin",
          schemaOf(OVERRIDE_PROPOSE_BODY_SCHEMA),
          {},
        ),
      },
      '/v1/admin/venues/{venue}/override/approve': {
        post: overrideOperation('Approve a proposed override (a second admin, not its proposer: 403 OVERRIDE_SELF_APPROVAL). admin', schemaOf(OVERRIDE_APPROVE_BODY_SCHEMA), {
          '409': errorResponse('OVERRIDE_NOT_PENDING: no override of this id awaits approval (approved already, revoked, replaced or expired)'),
        }),
      },
      '/v1/admin/venues/{venue}/override/revoke': {
        post: overrideOperation('End the override (pending or in force) before its expiry. ops, admin', schemaOf(OVERRIDE_REVOKE_BODY_SCHEMA, 'Empty object or no body'), {}, false),
      },
    },
  }
}
