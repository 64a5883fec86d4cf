/**
 * The app's `notFound`: a path the API serves with other methods is 405 METHOD_NOT_ALLOWED with an `Allow` header
 * listing them (RFC 9110 §15.5.6), so a client that used the wrong method is told so instead of being told nothing is
 * there; any other path is the usual 404. Both in the one error shape.
 */

import type { Env, Hono, NotFoundHandler } from 'hono'
import { ApiError, errorResponse, notFound } from './errors.ts'
import { PATH_SHOWN_CHARS_MAX, shownText } from './shown-text.ts'

interface RouteMethod {
  pattern: RegExp
  method: string
}

export function notFoundOrMethodNotAllowed<E extends Env>(app: Hono<E>): NotFoundHandler<E> {
  // Built on first use: the routes are registered after the handler is installed.
  let table: RouteMethod[] | null = null
  return function notFoundOrMethodNotAllowed(c) {
    table ??= routeMethods(app)
    const allowed = new Set<string>()
    for (const route of table) if (route.pattern.test(c.req.path)) allowed.add(route.method)
    if (allowed.size === 0) return notFound(c)
    if (allowed.has('GET')) allowed.add('HEAD')
    const methods = [...allowed].sort()
    return errorResponse(
      c,
      new ApiError('METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${shownText(c.req.path, PATH_SHOWN_CHARS_MAX)}; use ${methods.join(' or ')}`, {
        headers: { Allow: methods.join(', ') },
        details: { allowed: methods },
      }),
    )
  }
}

/** Route handlers only: middleware is registered for every method ('ALL') and says nothing about what a path serves. */
function routeMethods<E extends Env>(app: Hono<E>): RouteMethod[] {
  const table: RouteMethod[] = []
  const seen = new Set<string>()
  for (const route of app.routes) {
    const key = `${route.method} ${route.path}`
    if (route.method === 'ALL' || seen.has(key)) continue
    seen.add(key)
    table.push({ pattern: pathPattern(route.path), method: route.method })
  }
  return table
}

/** Hono's path syntax as used by the routes: literal segments and `:name` parameters (one segment each). */
function pathPattern(path: string): RegExp {
  const segments = path.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
  return new RegExp(`^${segments.join('/')}$`)
}
