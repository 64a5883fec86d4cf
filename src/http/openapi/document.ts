/**
 * The OpenAPI 3.1 document served at `/openapi.json`: every route the app serves, one file per area (paths-*.ts).
 * Request bodies and query parameters are generated from the very valibot schemas the routes validate with
 * (@valibot/to-json-schema; transforms and custom checks have no JSON Schema form and are described in words instead),
 * so the document cannot drift from what the server accepts. Paths and responses are listed by hand: they are the
 * API's table of contents. The answers of /health (with an HA node's status), /v1/stats and an order's events and
 * explanation are generated from valibot schemas too (health-schema.ts, ha-status-schema.ts, stats-schema.ts,
 * order-log-schema.ts); tsc ties them and the Error component to the types they are built as. specs/http/openapi-routes.test.ts holds the document to the
 * app's routes both ways; openapi-shapes.test.ts and openapi-health.test.ts hold real answers to it.
 *
 * Why not hono-openapi: it would wrap every route in its validator middleware for a document we can produce from the
 * same schemas with one small, pure converter — and the routes here validate in a fixed order (body, key, role, load)
 * that a per-route validator middleware would reorder.
 */

import { assert } from '../../domain/assert.ts'
import { REASON_CODES } from '../../domain/reasons.ts'
import { ERROR_CODES, type ErrorBody } from '../errors.ts'
import { adminPart } from './paths-admin.ts'
import { venueHealthPart } from './paths-venue-health.ts'
import { autoStopPart } from './paths-auto-stop.ts'
import { revocationsPart } from './paths-revocations.ts'
import { orderListsPart } from './paths-order-lists.ts'
import { auditPart } from './paths-audit.ts'
import { backofficePart } from './paths-backoffice.ts'
import { ordersPart } from './paths-orders.ts'
import { replicationPart } from './paths-replication.ts'
import { servicePart } from './paths-service.ts'
import { streamsPart } from './paths-streams.ts'
import { errorResponse, record, type DocumentPart, type Json, type SchemaFields, type Tag } from './shared.ts'

export interface OpenApiDocumentOptions {
  version: string
  /** The node runs HA and serves the replication routes: list them (they exist nowhere else). */
  replication: boolean
  /** Config auth.protectServiceRoutes is on (and whether a scrape token is configured): the service routes take tokens. */
  serviceRoutes?: { scrapeToken: boolean }
}

const TAGS: Record<Tag, string> = {
  orders: 'Place, list, get, cancel and amend orders; an order’s history from the log',
  streams: 'Server-sent events from the log, resumable by LSN',
  admin: 'Operator controls: mode, kill switches, snapshots, flatten',
  backoffice: 'Read-only back office: positions, balances, PnL, fills, ledger, stats, reconcile',
  audit: 'The audit trail: verification, seals, anchors (auditor, admin)',
  service: 'Health probes, metrics, this document (no token)',
  replication: 'Internal: log replication between the two nodes of an HA pair (shared replication token)',
}

/** The service tag where config auth.protectServiceRoutes is on. */
const PROTECTED_SERVICE_TAG = 'Health probes, metrics, this document (protected: a token, but /health/live and the /health summary)'

/** The Error component: the body of every error answer (ErrorBody, errors.ts), tied to it by tsc field by field. */
const ERROR_SCHEMA: Json = record({
  error: record({
    code: { type: 'string', enum: [...Object.keys(ERROR_CODES), ...REASON_CODES] },
    message: { type: 'string' },
    details: { type: 'object' },
  } satisfies SchemaFields<ErrorBody['error']>),
} satisfies SchemaFields<ErrorBody>)

export function openApiDocument(options: OpenApiDocumentOptions): Json {
  const parts: DocumentPart[] = [ordersPart(), orderListsPart(), streamsPart(), adminPart(), venueHealthPart(), autoStopPart(), revocationsPart(), backofficePart(), auditPart(), servicePart(options.serviceRoutes)]
  if (options.replication) parts.push(replicationPart())
  const tags = Object.entries({ ...TAGS, ...(options.serviceRoutes === undefined ? {} : { service: PROTECTED_SERVICE_TAG }) }).filter(([name]) => options.replication || name !== 'replication')
  return {
    openapi: '3.1.0',
    info: { title: 'egress', version: options.version, description: 'Execution gateway: the single exit through which every order reaches a venue.' },
    tags: tags.map(([name, description]) => ({ name, description })),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        ...(options.serviceRoutes?.scrapeToken === true ? { scrapeToken: { type: 'http', scheme: 'bearer', description: 'The static scrape token of config auth.scrapeTokenFile, not a JWT: /metrics and /health details only' } } : {}),
        ...(options.replication ? { replicationToken: { type: 'http', scheme: 'bearer', description: "The HA nodes' shared replication token, not a JWT" } } : {}),
      },
      schemas: merged({ Error: ERROR_SCHEMA }, parts.map((part) => part.schemas), 'component schema'),
    },
    paths: withMethodNotAllowed(withReadBudget(mergedPaths(parts))),
  }
}

/**
 * Every path the app serves answers any other method with 405 METHOD_NOT_ALLOWED and an `Allow` header
 * (method-not-allowed.ts: the path's methods, with HEAD wherever GET is). OpenAPI lists responses per operation and
 * has no place for the methods a path does not serve, so each operation of the path carries it, with the Allow value.
 * Behind /v1 the token is checked first: a wrong method without a valid one is 401.
 */
function withMethodNotAllowed(paths: Record<string, Json>): Record<string, Json> {
  const result: Record<string, Json> = {}
  for (const [path, operations] of Object.entries(paths)) {
    const methods = new Set(Object.keys(operations).map((method) => method.toUpperCase()))
    if (methods.has('GET')) methods.add('HEAD')
    const allow = [...methods].sort().join(', ')
    const answer = {
      ...errorResponse(`METHOD_NOT_ALLOWED: ${path} was asked with a method it does not serve; it serves ${allow} (details.allowed lists them too)`),
      headers: { Allow: { description: 'The methods this path serves', schema: { type: 'string', const: allow } } },
    }
    result[path] = Object.fromEntries(
      Object.entries(operations).map(([method, operation]) => {
        const responses = (operation as { responses: Json }).responses
        assert(!('405' in responses), `openapi: ${method} ${path} documents its own 405`)
        return [method, { ...(operation as Json), responses: { ...responses, '405': answer } }]
      }),
    )
  }
  return result
}

/** What every GET under /v1 may answer past its caller's read budget (src/http/read-limit.ts). */
const READ_BUDGET_429 =
  'RATE_LIMITED with details.scope "read": this caller (token sub) is past its read budget, config backpressure.read; retry after Retry-After'

/**
 * Every GET under /v1 is charged to its caller's read budget (read-limit.ts), so each may answer 429: added here, to
 * the operation's own 429 when it has one, rather than repeated in every part.
 */
function withReadBudget(paths: Record<string, Json>): Record<string, Json> {
  const result: Record<string, Json> = {}
  for (const [path, operations] of Object.entries(paths)) {
    const get = (operations as { get?: { responses: Record<string, { description?: string }> } }).get
    if (!path.startsWith('/v1/') || get === undefined) {
      result[path] = operations
      continue
    }
    const own = get.responses['429']?.description
    const answer = errorResponse(own === undefined ? READ_BUDGET_429 : `${own}; or ${READ_BUDGET_429}`)
    result[path] = { ...(operations as Json), get: { ...get, responses: { ...get.responses, '429': answer } } }
  }
  return result
}

/** One path may be served by routes of two areas (its methods are then merged); the same operation twice is a bug. */
function mergedPaths(parts: readonly DocumentPart[]): Record<string, Json> {
  const paths: Record<string, Json> = {}
  for (const part of parts) {
    for (const [path, operations] of Object.entries(part.paths)) paths[path] = merged(paths[path] ?? {}, [operations], `operation on ${path}`)
  }
  return paths
}

function merged(into: Json, sources: readonly Json[], what: string): Json {
  const result: Json = { ...into }
  for (const source of sources) {
    for (const [name, value] of Object.entries(source)) {
      assert(!(name in result), `openapi: ${what} ${name} is defined twice`)
      result[name] = value
    }
  }
  return result
}
