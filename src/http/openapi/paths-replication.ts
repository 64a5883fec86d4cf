/**
 * The replication part of the document (routes/replication.ts): internal, between the two nodes of an HA pair, and
 * served only by a node running HA (the document lists them only there). Authenticated by the nodes' shared
 * replication token, not a client JWT, and answered by the leader only (503 NOT_LEADER elsewhere).
 */

import type { StreamRefusal } from '../../runtime/ha/index.ts'
import { LEADER_EPOCH_HEADER, LOG_READS_HEADER, SNAPSHOT_CONTENT_TYPE, SNAPSHOT_HEADERS } from '../../runtime/ha/index.ts'
import { ACK_BODY_SCHEMA, HASH_QUERY, REPLICATION_STREAM_QUERY, WAL_FRAMES_CONTENT_TYPE } from '../routes/replication.ts'
import { errorResponse, integer, jsonAnswer, jsonContent, operation, queryParameters, record, ref, schemaOf, type DocumentPart, type ErrorStatus, type Json } from './shared.ts'

const REFUSAL_CODES = ['DIVERGED', 'RESYNC_REQUIRED', 'STANDBY_TOO_OLD'] as const satisfies readonly (StreamRefusal['code'] | 'STANDBY_TOO_OLD')[]

const UNAUTHENTICATED = errorResponse("UNAUTHENTICATED: no or wrong replication token (the nodes' shared secret)")
/** Unlike /v1, a 400 here carries its message alone, no details.issues (as these routes have always answered). */
const BAD_QUERY_TEXT =
  'VALIDATION_FAILED: a parameter is missing or bad; the message says which and what it must be (`lsn must be an integer ≥ 0, got "x"`). A parameter the route does not take, or one given twice, is refused first, each listed in details.issues'
const BAD_QUERY = errorResponse(BAD_QUERY_TEXT)
const NOT_LEADER = errorResponse('NOT_LEADER: only the leader serves replication (details.leader); or the node is draining')
/** The stream and the snapshot share a bound on transfers served at once (routes/replication.ts REPLICATION_TRANSFERS_MAX). */
const TRANSFERS_BUSY = errorResponse(
  'NOT_LEADER: only the leader serves replication (details.leader); or the node is draining; or UNAVAILABLE with Retry-After: the leader serves as many replication streams and snapshot downloads at once as it takes (details.reason too_many_replication_transfers, details.transfers_max)',
)

/** Every replication route: 401 without the token, 503 on a node not leading; `errors` adds the shared ones it can give. */
function replication(spec: { summary: string; errors: readonly ErrorStatus[]; responses: Json; parameters?: Json[]; requestBody?: Json }): Json {
  return operation({
    tag: 'replication',
    summary: `${spec.summary}. Internal: the standby of an HA pair, with the replication token`,
    security: 'replication',
    errors: spec.errors,
    responses: { '401': UNAUTHENTICATED, '503': NOT_LEADER, ...spec.responses },
    ...(spec.parameters === undefined ? {} : { parameters: spec.parameters }),
    ...(spec.requestBody === undefined ? {} : { requestBody: spec.requestBody }),
  })
}

/** What the standby's build reads (src/runtime/ha/log-reads.ts); the stream and snapshot routes refuse without it. */
const LOG_READS_PARAMETER: Json = {
  name: LOG_READS_HEADER,
  in: 'header',
  required: true,
  description:
    "What the standby's build reads: `events@<version>=<code ranges>` per version (the domain events' codes and the back office's records', 45057-45059), then `snapshot=`, `kernel-state=` and `backoffice=` versions (e.g. `events@3=100-103,200-228;snapshot=1;kernel-state=11;backoffice=5`), at most 4096 bytes, naming at most 65536 codes in all (each once)",
  schema: { type: 'string' },
}
const TOO_OLD = "STANDBY_TOO_OLD: the standby's build cannot read what this leader writes (the message lists the record types or snapshot parts), or it sent no " + LOG_READS_HEADER + ' header (a build older than the check): upgrade standbys before their leader'

export function replicationPart(): DocumentPart {
  const header = (name: string, description: string): Json => ({ [name]: { description, schema: { type: 'string' } } })
  return {
    schemas: {
      ReplicationAck: schemaOf(ACK_BODY_SCHEMA, 'The LSN through which the standby holds the log durably'),
      ReplicationRefusal: record({
        error: record({
          code: { type: 'string', enum: [...REFUSAL_CODES] },
          message: { type: 'string' },
          details: { type: 'object', description: 'DIVERGED: leader_last_lsn; RESYNC_REQUIRED: leader_first_lsn; STANDBY_TOO_OLD: leader_writes (what this leader writes, in the header\'s form)' },
        }),
      }),
    },
    paths: {
      '/replication/hash': {
        get: replication({
          summary: "The leader's chain hash at an LSN (a diverged standby searches for where the logs forked)",
          errors: [],
          responses: {
            '400': BAD_QUERY,
            '200': jsonAnswer('{ lsn, hash, last_lsn }', record({ lsn: { type: 'integer' }, hash: { type: 'string', description: 'hex SHA-256' }, last_lsn: integer("The leader's last LSN") })),
            '404': errorResponse('This log does not hold the LSN (details.first_lsn, last_lsn)'),
          },
          parameters: queryParameters(HASH_QUERY, { lsn: 'An integer ≥ 0 (0: the genesis hash)' }),
        }),
      },
      '/replication/ack': {
        post: replication({
          summary: "The standby's durable LSN: synchronous replication's writes wait for it",
          errors: ['413'],
          responses: {
            '204': { description: 'Recorded' },
            '400': errorResponse('VALIDATION_FAILED: the body is not {"lsn": integer ≥ 0, "epoch": integer ≥ 1} (message only, no details), the LSN is beyond this log\'s end (details.lsn, last_lsn), or a query parameter was sent (this route takes none; listed in details.issues)'),
            '409': errorResponse(`Not counted. CONFLICT: the acknowledgement names another epoch than this leader's (details.epoch, leader_epoch): it is about another term's log. STANDBY_TOO_OLD: it names no epoch (a standby build older than the ${LEADER_EPOCH_HEADER} header): upgrade standbys before their leader`),
          },
          requestBody: { required: true, content: jsonContent(ref('ReplicationAck')) },
        }),
      },
      '/replication/snapshot': {
        get: replication({
          summary: "The leader's newest valid snapshot, for a standby whose next LSN the leader has compacted away",
          errors: [],
          responses: {
            '200': {
              description: 'The snapshot file',
              headers: {
                ...header(SNAPSHOT_HEADERS.lsn, 'The LSN it holds the state at'),
                ...header(SNAPSHOT_HEADERS.digest, 'SHA-256 of the file (hex)'),
                ...header(SNAPSHOT_HEADERS.chainBefore, "The chain hash just before its LSN: where the standby's log starts"),
                ...header(SNAPSHOT_HEADERS.seal, "Its seal (the JWS of snapshot-<lsn>.snap.seal), when the leader holds one beside it; absent for an unsealed snapshot. A snapshot whose seal does not hold is never served"),
              },
              content: { [SNAPSHOT_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary' } } },
            },
            '400': errorResponse(`VALIDATION_FAILED: a query parameter was sent (this route takes none), or the ${LOG_READS_HEADER} header is malformed`),
            '404': errorResponse('This leader keeps no snapshots, or holds none that matches its log'),
            '409': jsonAnswer(TOO_OLD, ref('ReplicationRefusal')),
            '503': TRANSFERS_BUSY,
          },
          parameters: [LOG_READS_PARAMETER],
        }),
      },
      '/replication/stream': {
        get: replication({
          summary: 'The log from from_lsn on, as a stream of envelopes of raw WAL frames with heartbeats while idle',
          errors: [],
          responses: {
            '400': errorResponse(`${BAD_QUERY_TEXT}; or the ${LOG_READS_HEADER} header is malformed`),
            '200': {
              description: 'Envelopes of WAL frames (src/runtime/ha/envelope.ts), ended at decision boundaries',
              headers: { [LEADER_EPOCH_HEADER]: { description: "This leader's epoch: the standby's acknowledgements of what it appends from this stream name it", schema: { type: 'string' } } },
              content: { [WAL_FRAMES_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary' } } },
            },
            '409': jsonAnswer(`DIVERGED: the standby holds records this log does not; RESYNC_REQUIRED: this log is compacted past from_lsn (start from the snapshot); ${TOO_OLD}`, ref('ReplicationRefusal')),
            '503': TRANSFERS_BUSY,
          },
          parameters: [
            ...queryParameters(REPLICATION_STREAM_QUERY, {
              from_lsn: "The standby's next LSN, an integer ≥ 1",
              head: "The standby's chain head (the hash at from_lsn - 1), 64 lowercase hex digits",
            }),
            LOG_READS_PARAMETER,
          ],
        }),
      },
    },
  }
}
