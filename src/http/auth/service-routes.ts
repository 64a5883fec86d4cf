/**
 * Protected service routes (config `auth.protectServiceRoutes`). Off (the default), /health, /metrics and
 * /openapi.json answer anyone, as they always did. On:
 *
 * - /metrics takes a service reader: a verified JWT holding ops, auditor or admin (the roles that read every account:
 *   the metrics count every account's orders), or the scrape token (scrape-token.ts). A trader or bot token is 403.
 * - /health answers a caller without an `Authorization` header its summary only (live, ready, draining, role: what a
 *   load balancer or an orchestrator's probe needs, with the same 200 / 503), and the full body — venues, config
 *   digest, log position, HA status — to a service reader. A header that does not admit is 401 / 403, not the summary:
 *   the caller asked for the details.
 * - /openapi.json takes any valid token (the scrape token is not one: it is for the monitoring reads alone).
 * - /health/live stays open: the bare liveness probe tells nothing.
 *
 * Tokens are verified by the very verifier /v1 uses (same algorithms, keys, claims, cache); refusals are the one error
 * shape: 401 UNAUTHENTICATED with its reason, 403 FORBIDDEN naming the roles.
 */

import type { Context, MiddlewareHandler } from 'hono'
import type { AuthConfig } from '../../config/index.ts'
import { ApiError } from '../errors.ts'
import { bearerTokenOf } from './middleware.ts'
import type { Role } from './principal.ts'
import { openScrapeTokenFile, type ScrapeToken } from './scrape-token.ts'
import type { Verifier } from './verifier.ts'

/** Who may read /metrics and /health's details besides the scrape token. */
export const SERVICE_READER_ROLES: readonly Role[] = ['ops', 'auditor', 'admin']

/** Present when the service routes are protected; absent, they answer anyone. */
export interface ServiceRoutesAuth {
  /** The scrape token, or null when none is configured (then only JWTs admit). */
  scrapeToken: ScrapeToken | null
}

/** The protection `auth` asks for: undefined when off. Opens (reads) the scrape token file: a bad one is a ConfigError. */
export function serviceRoutesAuthFromConfig(auth: AuthConfig, options: { log?: (line: string) => void } = {}): ServiceRoutesAuth | undefined {
  if (auth.protectServiceRoutes !== true) return undefined
  if (auth.scrapeTokenFile === undefined) return { scrapeToken: null }
  return { scrapeToken: openScrapeTokenFile(auth.scrapeTokenFile, { reloadMs: auth.jwksReloadMs, ...(options.log === undefined ? {} : { log: options.log }) }) }
}

/** Throws 401 / 403 unless the request carries the scrape token or a token of a service reader. */
export async function assertServiceReader(c: Context, verifier: Verifier, protection: ServiceRoutesAuth): Promise<void> {
  const token = bearerTokenOf(c)
  if (protection.scrapeToken?.matches(token) === true) return
  const principal = await verifier.verify(token)
  if (!principal.roles.some((role) => SERVICE_READER_ROLES.includes(role))) {
    throw new ApiError('FORBIDDEN', `requires one of the roles: ${SERVICE_READER_ROLES.join(', ')} (or the scrape token)`, {
      details: { requiredRoles: SERVICE_READER_ROLES },
    })
  }
}

/** /metrics: a service reader when protected; anyone when `protection` is undefined. */
export function requireServiceReader(verifier: Verifier, protection: ServiceRoutesAuth | undefined): MiddlewareHandler {
  return async function requireServiceReader(c, next) {
    if (protection !== undefined) await assertServiceReader(c, verifier, protection)
    await next()
  }
}

/** /openapi.json: any valid token when protected; anyone when `protection` is undefined. */
export function requireAnyToken(verifier: Verifier, protection: ServiceRoutesAuth | undefined): MiddlewareHandler {
  return async function requireAnyToken(c, next) {
    if (protection !== undefined) await verifier.verify(bearerTokenOf(c))
    await next()
  }
}
