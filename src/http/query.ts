/**
 * Query strings, read the same way by every route: each parameter must be one the route takes, given once, and what
 * the route takes is its valibot schema (an object schema: one entry per parameter, which /openapi.json documents).
 *
 * Why refuse rather than ignore: a client that misspells a filter (`?acount=demo-2`) or sends one a route does not
 * have would get an answer that looks right and is not what it asked for. A repeated parameter
 * (`?account=demo-1&account=demo-2`) is worse: Hono's `c.req.query()` keeps the first value, another reader of the
 * same URL (a proxy, a cache, a log) may keep the last, so the client and the gateway may read two different requests.
 *
 * Both are 400 VALIDATION_FAILED listing each issue with its path, the shape every other validation failure has: the
 * parameter's name under `query.` (`query.limit`), as a header's issue is under `header.` and a body's is the path
 * into the body; the schema's own issues follow in the same way.
 */

import type { Context } from 'hono'
import * as v from 'valibot'
import { ApiError, issueDetails, parseOrThrow, type ValidationIssue } from './errors.ts'
import { shownText } from './shown-text.ts'

/** A route's query schema: an object schema, one entry per parameter the route takes. */
export type QuerySchema = v.GenericSchema & { readonly entries: v.ObjectEntries }

/** The query of a route that takes no parameters. */
export const NO_QUERY = v.strictObject({})

/** The names a parameter is shown with in a message: printable, bounded, so a hostile name cannot flood a log. */
const NAME_CHARS_MAX = 64

/**
 * The route's query, parsed with `schema`, or 400 VALIDATION_FAILED: a parameter the schema does not name, a parameter
 * given more than once, or a value the schema refuses.
 */
export function queryOf<TSchema extends QuerySchema>(c: Context, schema: TSchema): v.InferOutput<TSchema> {
  // Most requests have no query at all (every POST /v1/orders): no parameters to read, and none for NO_QUERY to parse.
  if (!c.req.url.includes('?')) return (schema as QuerySchema) === NO_QUERY ? NO_PARAMETERS : parseOrThrow(schema, NO_PARAMETERS, QUERY_PATH)
  return parseOrThrow(schema, singleQuery(c, Object.keys(schema.entries)), QUERY_PATH)
}

/** Where a query parameter's issue is: `query.<name>`. */
const QUERY_PATH = 'query'

/** The issue path of the query parameter `name` (routes that check a parameter themselves use it too). */
export function queryPath(name: string): string {
  return `${QUERY_PATH}.${name}`
}

/** What a request without a query string gives its route. */
const NO_PARAMETERS: Readonly<Record<string, never>> = Object.freeze({})

/**
 * Every parameter of the query, each given once and named in `names`, as name → value; 400 VALIDATION_FAILED
 * otherwise. For routes that parse the values their own way (routes/replication.ts) and for queryOf.
 */
export function singleQuery(c: Context, names: readonly string[]): Record<string, string> {
  const all = c.req.queries()
  const issues: ValidationIssue[] = []
  const single: Record<string, string> = {}
  for (const [name, values] of Object.entries(all)) {
    if (!names.includes(name)) {
      const takes = names.length === 0 ? 'this route takes no query parameters' : `this route takes ${names.join(', ')}`
      issues.push({ path: queryPath(shown(name)), message: `unknown query parameter; ${takes}` })
    } else if (values.length !== 1) {
      issues.push({ path: queryPath(name), message: `given ${values.length} times; expected once` })
    } else {
      single[name] = values[0] as string
    }
  }
  // A parameter without a name (`?=x`) is not among Hono's queries at all: read from the URL, refused as unknown.
  if (hasUnnamedParameter(c.req.url)) issues.push({ path: queryPath(''), message: 'a query parameter without a name; expected name=value' })
  const first = issues[0]
  if (first !== undefined) throw new ApiError('VALIDATION_FAILED', `${first.path}: ${first.message}`, { details: issueDetails(issues) })
  return single
}

/** Whether the URL's query has a part `=value` (or `=`): a value with no name. */
function hasUnnamedParameter(url: string): boolean {
  const start = url.indexOf('?')
  if (start < 0) return false
  const end = url.indexOf('#', start)
  for (const part of url.slice(start + 1, end < 0 ? undefined : end).split('&')) if (part.startsWith('=')) return true
  return false
}

function shown(name: string): string {
  return shownText(name, NAME_CHARS_MAX)
}
