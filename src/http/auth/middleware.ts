/**
 * Hono middleware: `requireAuth` turns the bearer token into the request's Principal (principalOf); `requireRole`
 * admits only principals holding one of the given roles. Both fail with the one error shape (401 / 403) by throwing
 * ApiError, which the app's onError renders.
 */

import type { Context, MiddlewareHandler, Next } from 'hono'
import { ApiError } from '../errors.ts'
import type { Principal, Role } from './principal.ts'
import { unauthenticated, type Verifier } from './verifier.ts'

/** The env of the routes behind requireAuth; use as `new Hono<AuthEnv>()`. Their caller is principalOf(c). */
export interface AuthEnv {
  Variables: Record<string, never>
}

/**
 * Each authenticated request's principal, by its context (principalOf): not a context variable, which made hono's Map
 * of them (and its storage) per request.
 */
const PRINCIPALS = new WeakMap<Context, Principal>()

/** Longer than any real JWT; refusing early keeps a huge header from reaching the parser. */
const TOKEN_CHARS_MAX = 8_192

/**
 * Verifies `Authorization: Bearer <token>` and records its principal (principalOf), then runs `admitted` (a check of
 * the caller now known, which throws to refuse: app.ts passes the read limit) before the route. The check is run here
 * rather than mounted as a middleware of its own: each middleware in hono's chain costs a promise, its generator and
 * two closures per request.
 */
export function requireAuth(verifier: Verifier, admitted: (c: Context<AuthEnv>) => void = admitAll): MiddlewareHandler<AuthEnv> {
  return function requireAuth(c, next) {
    const token = bearerTokenOf(c)
    // A token the cache holds (every request but a token's first) is answered at once: no promise of its own per request.
    const cached = verifier.verifyCached(token)
    if (cached === undefined) return verifyThenNext(verifier, token, c, next, admitted)
    PRINCIPALS.set(c, cached)
    admitted(c)
    return next()
  }
}

async function verifyThenNext(verifier: Verifier, token: string, c: Context<AuthEnv>, next: Next, admitted: (c: Context<AuthEnv>) => void): Promise<void> {
  PRINCIPALS.set(c, await verifier.verify(token))
  admitted(c)
  await next()
}

function admitAll(): void {}

/** Admits principals holding at least one of `roles`; mount after requireAuth. */
export function requireRole(...roles: Role[]): MiddlewareHandler<AuthEnv> {
  return async function requireRole(c, next) {
    const principal = principalOf(c)
    if (!principal.roles.some((role) => roles.includes(role))) {
      throw new ApiError('FORBIDDEN', `requires one of the roles: ${roles.join(', ')}`, {
        details: { requiredRoles: roles },
      })
    }
    await next()
  }
}

/** The authenticated principal; asserts requireAuth ran (a route mounted without it is a bug, hence not a 401). */
export function principalOf(c: Context<AuthEnv>): Principal {
  const principal = PRINCIPALS.get(c)
  if (principal === undefined) throw new Error('principalOf: requireAuth did not run for this route')
  return principal
}

/** The request's bearer token, as requireAuth read it; throws the same 401 for a missing or malformed one. */
export function bearerTokenOf(c: Context): string {
  return bearerToken(c.req.header('Authorization'))
}

function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') throw unauthenticated('missing')
  // `-H "Authorization: Bearer $TOKEN"` in a shell where TOKEN was never set (a second terminal) sends the scheme alone.
  if (/^Bearer *$/i.test(header)) throw unauthenticated('malformed', 'the token after "Bearer" is empty (is $TOKEN set in this shell?)')
  // The usual form (one space, nothing after the token) is told by a test and cut by a slice: exec made a match array
  // and a string per capture on every request.
  const token = BEARER_ONE_SPACE.test(header) ? header.slice(BEARER_PREFIX_CHARS) : BEARER.exec(header)?.[1]
  if (token === undefined) throw unauthenticated('malformed', 'expected "Authorization: Bearer <token>"')
  if (token.length > TOKEN_CHARS_MAX) throw unauthenticated('malformed', 'token too long')
  return token
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i
/** BEARER's matches with one space and no trailing one, whose token starts after `Bearer `. */
const BEARER_ONE_SPACE = /^Bearer [A-Za-z0-9._~+/=-]+$/i
const BEARER_PREFIX_CHARS = 'Bearer '.length
