/**
 * What every part of the OpenAPI document is built with: valibot schemas turned into JSON Schema, the shared error
 * responses, and `operation`, which gives every operation the same form (tag, summary, who authenticates, the error
 * responses it can give).
 */

import { toJsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema'
import type { GenericSchema } from 'valibot'
import { assert } from '../../domain/assert.ts'

export type Json = Record<string, unknown>

/** A part of the document: its paths and the component schemas they refer to. */
export interface DocumentPart {
  paths: Record<string, Json>
  schemas: Record<string, Json>
}

/**
 * The JSON Schema of a valibot schema as a client sends it (typeMode input). Transforms and custom checks have no JSON
 * Schema form and are skipped (errorMode ignore): what they require is said in words instead.
 */
export function schemaOf(schema: GenericSchema, description?: string): Json {
  const json = toJsonSchema(schema, { errorMode: 'ignore', typeMode: 'input' }) as Json
  delete json.$schema
  return description === undefined ? json : { ...json, description }
}

/**
 * Component schemas generated from the valibot schemas of answers, by component name. Where one of them holds another
 * (Health holds HaStatus), it refers to that component instead of repeating it. Everything an answer schema says must
 * have a JSON Schema form (errorMode throw): unlike a request body, it has no checks that could be said in words.
 */
export function answerComponents(schemas: Record<string, GenericSchema>): Record<string, Json> {
  const json = toJsonSchemaDefs(schemas, {
    errorMode: 'throw',
    typeMode: 'output',
    target: 'draft-2020-12',
    overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
  })
  return json as Record<string, Json>
}

export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` })
export const jsonContent = (schema: Json): Json => ({ 'application/json': { schema } })
export const errorResponse = (description: string): Json => ({ description, content: jsonContent(ref('Error')) })
/** A JSON answer whose shape is the schema. */
export const jsonAnswer = (description: string, schema: Json): Json => ({ description, content: jsonContent(schema) })

export const DECIMAL = 'decimal string, at most 8 places, no leading zero (never a JSON number)'
export const decimal = (description?: string): Json => ({ type: 'string', description: description === undefined ? DECIMAL : `${description}; ${DECIMAL}` })
export const integer = (description: string): Json => ({ type: 'integer', description })
export const nullable = (type: string, description: string): Json => ({ type: [type, 'null'], description })

/**
 * The JSON Schema of each field of T, by the field's name: a hand-written schema of an answer typed as an interface
 * (ErrorBody, LiveBody) says `satisfies SchemaFields<T>`, so tsc fails when a field is in one and not the other.
 */
export type SchemaFields<T> = { [K in keyof T]-?: Json }

/** An object whose every property is always present. */
export function record(properties: Record<string, Json>, description?: string): Json {
  return { type: 'object', required: Object.keys(properties), properties, ...(description === undefined ? {} : { description }) }
}

export const ERRORS = {
  '400': errorResponse(
    'MALFORMED_REQUEST: the body is not JSON (missing, not valid UTF-8, a member given twice). VALIDATION_FAILED: a body or query that fails validation (each issue in details.issues with its path: in the body as it is, `qty`; a query parameter as `query.<name>`, `query.limit`; the first 20 issues, with details.issues_total counting them all when there are more), or a query parameter the route does not take or one given more than once (path `query.<name>`)',
  ),
  '401': errorResponse(
    'UNAUTHENTICATED: no bearer token, or one refused; details.reason says which check (missing, malformed, expired, bad_signature, unknown_key, wrong_issuer, wrong_audience, …). TOKEN_REVOKED: a valid token an admin revoked',
  ),
  '403': errorResponse('FORBIDDEN: the principal lacks the role or account scope'),
  '404': errorResponse('NOT_FOUND: no such resource (or not readable by this principal)'),
  '413': errorResponse('Body larger than the configured bound'),
  '415': errorResponse('UNSUPPORTED_MEDIA_TYPE: a body sent without Content-Type application/json (or a +json type)'),
  '429': errorResponse('RATE_LIMITED: the log is at capacity; retry after Retry-After'),
  '503': errorResponse(
    'Not ready, draining, or the log is unavailable; on an HA pair also NOT_LEADER (a write sent to a standby) or, in synchronous mode, STANDBY_UNAVAILABLE / REPLICATION_UNCONFIRMED',
  ),
} as const satisfies Record<string, Json>

export type ErrorStatus = keyof typeof ERRORS

export type Tag = 'orders' | 'streams' | 'admin' | 'backoffice' | 'audit' | 'service' | 'replication'

export interface OperationSpec {
  tag: Tag
  summary: string
  /** More than the summary holds: what a repeat of the request does, for routes that read no Idempotency-Key. */
  description?: string
  /** Who authenticates: a client's JWT, the HA nodes' shared replication token, or nobody. */
  security: 'bearer' | 'replication' | 'none'
  /**
   * The shared error responses (ERRORS) this operation can give; its own entries in `responses` win. 400 is always
   * added: every route refuses a query parameter it does not take, or one given twice (src/http/query.ts).
   */
  errors: readonly ErrorStatus[]
  responses: Json
  parameters?: Json[]
  requestBody?: Json
}

export function operation(spec: OperationSpec): Json {
  const statuses: readonly ErrorStatus[] = spec.errors.includes('400') ? spec.errors : ['400', ...spec.errors]
  const shared = Object.fromEntries(statuses.map((status) => [status, ERRORS[status]]))
  // An empty list says "no token" outright rather than leaving it to a document-wide default.
  const security = spec.security === 'bearer' ? [{ bearer: [] }] : spec.security === 'replication' ? [{ replicationToken: [] }] : []
  return {
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    security,
    ...(spec.parameters === undefined ? {} : { parameters: spec.parameters }),
    ...(spec.requestBody === undefined ? {} : { requestBody: spec.requestBody }),
    responses: { ...shared, ...spec.responses },
  }
}

export const idParam = (name: string, description: string): Json => ({ name, in: 'path', required: true, schema: { type: 'string' }, description })
export const ORDER_ID = idParam('id', 'Order id')
export const ACCOUNT_ID = idParam('id', 'Account id')
export const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
  description: 'Required unless the body has client_order_id; when both are sent they must be equal (400 IDEMPOTENCY_KEY_MISMATCH). A key starting with `flatten:` is reserved for the closing orders of flatten (400 IDEMPOTENCY_KEY_RESERVED). A repeat returns the first answer byte for byte; a different body is 409.',
}

export const TRACEPARENT = {
  name: 'traceparent',
  in: 'header',
  required: false,
  schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$' },
  description:
    'W3C Trace Context: the caller\'s trace, which egress joins as a span of its own (answered in the `traceresponse` header, recorded on what the request writes). ' +
    'Absent or malformed (uppercase, wrong length, all-zero ids, version ff): egress starts a new trace; never an error.',
}

/**
 * The query parameters of a route, generated from the valibot schema the route parses its query with: one per key,
 * required as the schema says. `descriptions` may only name the schema's keys (a description of a parameter the route
 * does not read is a bug in the document, caught when it is built).
 */
export function queryParameters(schema: GenericSchema, descriptions: Record<string, string> = {}): Json[] {
  const json = schemaOf(schema) as { properties?: Record<string, Json>; required?: string[] }
  const properties = json.properties ?? {}
  for (const name of Object.keys(descriptions)) assert(name in properties, `openapi: query parameter ${name} is described, but the route's schema has no such key`)
  return Object.entries(properties).map(([name, property]) => {
    const description = descriptions[name]
    return {
      name,
      in: 'query',
      required: json.required?.includes(name) ?? false,
      schema: property,
      ...(description === undefined ? {} : { description }),
    }
  })
}
