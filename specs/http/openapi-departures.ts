/**
 * Holds a real answer to the schema /openapi.json documents for it, for the specs that compare the two
 * (openapi-shapes.test.ts, openapi-health.test.ts). The JSON Schema the document uses is checked keyword by keyword;
 * a keyword this checker does not know is itself a departure, so a schema can never pass here only because a part of
 * it went unchecked. Objects: every key the answer has must be documented (a key the document does not name is a
 * departure whether or not the schema says additionalProperties false), every required key must be there.
 */

import { openApiDocument } from '../../src/http/openapi/document.ts'

type Json = Record<string, unknown>

/** Keywords that say something about a value and are checked below. */
const CHECKED = new Set(['$ref', 'type', 'const', 'enum', 'oneOf', 'anyOf', 'properties', 'required', 'additionalProperties', 'propertyNames', 'items', 'minimum', 'maximum', 'pattern', 'maxLength'])
/** Keywords that only annotate. */
const ANNOTATIONS = new Set(['description', 'default', 'format'])

export interface DocumentedAnswers {
  /** The documented schema of the answer `method path` gives with `status`. */
  answerSchema(method: string, path: string, status: string): Json
  /** Where `value` departs from `schema` (a $ref to a component, or a schema), each as `at.path: what`. */
  departures(schema: Json, value: unknown, at: string): string[]
}

export function documentedAnswers(doc: Json): DocumentedAnswers {
  const components = (doc.components as { schemas: Record<string, Json> }).schemas
  const resolved = (schema: Json): Json => {
    if (typeof schema.$ref !== 'string') return schema
    const name = schema.$ref.replace('#/components/schemas/', '')
    const component = components[name]
    if (component === undefined) throw new Error(`the document refers to component ${name}, which it does not define`)
    return component
  }

  function departures(schemaOrRef: Json, value: unknown, at: string): string[] {
    const schema = resolved(schemaOrRef)
    const unknown = Object.keys(schema).filter((keyword) => !CHECKED.has(keyword) && !ANNOTATIONS.has(keyword))
    if (unknown.length > 0) return [`${at}: the document uses ${unknown.join(', ')}, which this spec does not check`]
    if (Array.isArray(schema.oneOf)) {
      const matching = (schema.oneOf as Json[]).filter((branch) => departures(branch, value, at).length === 0)
      if (matching.length !== 1) return [`${at}: matches ${matching.length} of the oneOf branches`, ...branchDepartures(schema.oneOf as Json[], value, at)]
    }
    if (Array.isArray(schema.anyOf)) {
      const matching = (schema.anyOf as Json[]).filter((branch) => departures(branch, value, at).length === 0)
      if (matching.length === 0) return [`${at}: matches none of the anyOf branches`, ...branchDepartures(schema.anyOf as Json[], value, at)]
    }
    if ('const' in schema && schema.const !== value) return [`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`]
    if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`]
    if (schema.type !== undefined) {
      const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string]
      const type = typeOf(value)
      if (!types.includes(type) && !(type === 'integer' && types.includes('number'))) return [`${at}: ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}, documented ${types.join('|')}`]
    }
    const found: string[] = []
    if (typeof value === 'number') {
      if (typeof schema.minimum === 'number' && value < schema.minimum) found.push(`${at}: ${value} is below the documented minimum ${schema.minimum}`)
      if (typeof schema.maximum === 'number' && value > schema.maximum) found.push(`${at}: ${value} is above the documented maximum ${schema.maximum}`)
    }
    if (typeof value === 'string') {
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) found.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`)
      if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) found.push(`${at}: longer than the documented ${schema.maxLength}`)
    }
    if (typeOf(value) === 'object') found.push(...objectDepartures(schema, value as Json, at))
    if (Array.isArray(value) && schema.items !== undefined) value.forEach((item, index) => found.push(...departures(schema.items as Json, item, `${at}[${index}]`)))
    return found
  }

  function objectDepartures(schema: Json, object: Json, at: string): string[] {
    const found: string[] = []
    const properties = schema.properties as Record<string, Json> | undefined
    for (const key of (schema.required ?? []) as string[]) if (!(key in object)) found.push(`${at}.${key}: documented as always there, missing`)
    if (typeof schema.propertyNames === 'object') for (const key of Object.keys(object)) found.push(...departures(schema.propertyNames as Json, key, `${at}<key ${key}>`))
    for (const [key, inner] of Object.entries(object)) {
      if (properties?.[key] !== undefined) found.push(...departures(properties[key], inner, `${at}.${key}`))
      else if (typeof schema.additionalProperties === 'object') found.push(...departures(schema.additionalProperties as Json, inner, `${at}.${key}`))
      else if (properties !== undefined || schema.additionalProperties === false) found.push(`${at}.${key}: not in the document`)
    }
    return found
  }

  /** Why each branch did not match (only shown when none or several did). */
  function branchDepartures(branches: Json[], value: unknown, at: string): string[] {
    return branches.flatMap((branch, index) => departures(branch, value, `${at}<branch ${index}>`))
  }

  function answerSchema(method: string, path: string, status: string): Json {
    const operation = ((doc.paths as Record<string, Json>)[path] as Record<string, Json> | undefined)?.[method.toLowerCase()] as { responses: Record<string, Json> } | undefined
    if (operation === undefined) throw new Error(`the document has no ${method} ${path}`)
    const content = operation.responses[status]?.content as Record<string, { schema: Json }> | undefined
    const schema = content?.['application/json']?.schema
    if (schema === undefined) throw new Error(`${method} ${path} documents no JSON ${status} answer`)
    return schema
  }

  return { answerSchema, departures }
}

/**
 * Where an HA node's status (HaNode.status: /health → ha) departs from the document's HaStatus component: for the HA
 * specs that bring a node into states an HTTP spec cannot cheaply reach (a divergence, a snapshot recovery, failed).
 */
export function haStatusDepartures(status: unknown): string[] {
  const { departures } = documentedAnswers(openApiDocument({ version: 'spec', replication: true }))
  return departures({ $ref: '#/components/schemas/HaStatus' }, status, 'ha')
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}
