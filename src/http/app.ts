/**
 * The Hono app: one error shape for everything (onError, notFound), a body-size bound, bearer auth on /v1, the
 * routes, and request accounting. No port, no server: `app.request()` drives it in tests, Bun.serve in `egress serve`.
 */

import { Hono, type Context } from 'hono'
import { matchedRoutes } from 'hono/route'
import { requireAnyToken, requireAuth, requireServiceReader, type AuthEnv } from './auth/index.ts'
import { boundBodies } from './body-bound.ts'
import { ApiError, createErrorHandler, toApiError } from './errors.ts'
import { notFoundOrMethodNotAllowed } from './method-not-allowed.ts'
import { serveMetricsText } from './metrics-route.ts'
import { chargeReads } from './read-limit.ts'
import { isTracedRequest, requestTrace } from './trace.ts'
import { openApiDocument, type OpenApiDocumentOptions } from './openapi/document.ts'
import { NO_QUERY, queryOf } from './query.ts'
import { adminRoutes } from './routes/admin.ts'
import { venueHealthRoutes } from './routes/venue-health.ts'
import { autoStopRoutes } from './routes/auto-stop.ts'
import { revocationRoutes } from './routes/revocations.ts'
import { auditRoutes } from './routes/audit.ts'
import { backofficeRoutes } from './routes/backoffice.ts'
import { healthRoutes } from './routes/health.ts'
import { replicationRoutes, requireLeaderForWrites } from './routes/replication.ts'
import { orderActionRoutes } from './routes/order-actions.ts'
import { orderLogRoutes } from './routes/order-log.ts'
import { orderRoutes } from './routes/orders.ts'
import { orderListRoutes } from './routes/order-lists.ts'
import { streamRoutes } from './routes/streams.ts'
import type { Services } from './services.ts'
import type { Labels } from './metrics/index.ts'

export const API_VERSION = '1.0.0'

export function createApp(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  const onError = createErrorHandler({ log: services.log })
  const answerError = (error: Error, c: Context): Response | Promise<Response> => {
    const known = toApiError(error)
    services.metrics.httpRejects.inc(1, { code: known?.code ?? 'INTERNAL' })
    return onError(error, c)
  }
  app.onError(answerError)
  app.notFound(notFoundOrMethodNotAllowed(app))
  // Every route, not only /v1: Bun.serve's own bound is set out of reach (server-limits.ts), so this is the one.
  const bound = boundBodies({
    maxSize: services.limits.bodyBytesMax,
    onError: () => {
      throw new ApiError('PAYLOAD_TOO_LARGE', `request body exceeds ${services.limits.bodyBytesMax} bytes`, { details: { bodyBytesMax: services.limits.bodyBytesMax } })
    },
  })
  // The request's trace, the shutdown refusal, the body bound and request accounting are one middleware: each middleware
  // in hono's chain costs a promise, its generator and two closures per request, every order's POST included.
  app.use('*', async function accounting(c, next) {
    // The API's requests only: a load balancer's health checks or a scraper are no sign the gateway is at work.
    if (c.req.path.startsWith('/v1/')) services.requests.started++
    // First, so whatever refuses a traced request (draining, the body bound, auth) answers with its traceresponse too.
    if (isTracedRequest(c)) requestTrace(c)
    // An HA leader's replication routes stay open while it drains: its planned stop hands the log's tail to the standby
    // over them, the stop's own records included, before it lets the lease go (src/runtime/ha/tail-handoff.ts).
    if (services.draining() && !c.req.path.startsWith('/health') && !(services.ha !== undefined && c.req.path.startsWith('/replication/'))) {
      // Refused before any route runs, so counted here: a shutdown's refusals are requests like any other.
      services.metrics.httpRequests.inc(1, { route: intendedRoute(c), status: '5xx' })
      throw new ApiError('UNAVAILABLE', 'the gateway is shutting down', { headers: { 'Retry-After': '5', Connection: 'close' } })
    }
    services.requests.inFlight++
    try {
      await bound(c, next)
    } catch (error) {
      // The bound's refusal (413), answered and counted as hono answers what a middleware of its own throws: the
      // routes' own errors were answered inside next() already.
      if (!(error instanceof Error)) throw error
      c.error = error
      c.res = await answerError(error, c)
    } finally {
      services.requests.inFlight--
    }
    services.metrics.httpRequests.inc(1, requestLabelsOf(c.req.routePath, c.res.status))
  })
  // Revoked tokens are refused from the set the log built (src/kernel/revocations.ts), on a leader and a standby alike.
  services.verifier.useRevocations(() => services.gateway.engine.state.revocations)
  // The read budget is charged once the caller is known (a bad token costs no one's budget); GETs only, so cancels are
  // never held back. Charged before the leader check below, which only refuses writes: the two never act on one request.
  app.use('/v1/*', requireAuth(services.verifier, chargeReads(services.readBudget)))
  if (services.ha !== undefined) {
    app.use('/v1/*', requireLeaderForWrites(services.ha))
    app.route('/', replicationRoutes(services.ha, () => services.gateway.engine.wal))
  }
  app.route('/', healthRoutes(services))
  // Open unless config auth.protectServiceRoutes: then a token first (auth/service-routes.ts; /health decides in its route).
  app.get('/metrics', requireServiceReader(services.verifier, services.serviceRoutes), serveMetricsText(services.metrics))
  const document = JSON.stringify(openApiDocument({ version: API_VERSION, replication: services.ha !== undefined, ...serviceRoutesOf(services) }))
  app.get('/openapi.json', requireAnyToken(services.verifier, services.serviceRoutes), (c) => {
    queryOf(c, NO_QUERY)
    return c.body(document, 200, { 'Content-Type': 'application/json; charset=utf-8' })
  })
  app.route('/', orderRoutes(services))
  app.route('/', orderListRoutes(services))
  app.route('/', orderActionRoutes(services))
  app.route('/', orderLogRoutes(services))
  app.route('/', streamRoutes(services))
  app.route('/', adminRoutes(services))
  app.route('/', venueHealthRoutes(services))
  app.route('/', autoStopRoutes(services))
  app.route('/', revocationRoutes(services))
  app.route('/', backofficeRoutes(services))
  app.route('/', auditRoutes(services))
  return app
}

/**
 * The route label of a request refused before routing: the route that would have answered it (the last handler its
 * path and method match), or, when none would, the last middleware it matched — what the label is once a request has
 * gone through the app (a 404 or 405 is labelled by the middleware that ran last).
 */
function intendedRoute(c: Context): string {
  const matched = matchedRoutes(c)
  return (matched.findLast((route) => route.method !== 'ALL') ?? matched.at(-1))?.path ?? c.req.routePath
}

/** A status's class label ("2xx"): made once per class, not per request. */
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx']

function statusClassOf(status: number): string {
  const digit = Math.floor(status / 100)
  return STATUS_CLASSES[digit] ?? `${digit}xx`
}

/**
 * egress_http_requests_total's labels for a route (a path the app registered: a bounded set) and a status, made once
 * per route and class and frozen, so the registry remembers their key too: a label object and a joined key per request
 * before.
 */
const REQUEST_LABELS = new Map<string, Labels[]>()

function requestLabelsOf(route: string, status: number): Labels {
  let byClass = REQUEST_LABELS.get(route)
  if (byClass === undefined) REQUEST_LABELS.set(route, (byClass = []))
  const digit = Math.floor(status / 100)
  let labels = byClass[digit]
  if (labels === undefined) byClass[digit] = labels = Object.freeze({ route, status: statusClassOf(status) })
  return labels
}

/** The document describes the service routes as this app guards them (auth/service-routes.ts). */
function serviceRoutesOf(services: Services): Pick<OpenApiDocumentOptions, 'serviceRoutes'> {
  return services.serviceRoutes === undefined ? {} : { serviceRoutes: { scrapeToken: services.serviceRoutes.scrapeToken !== null } }
}
