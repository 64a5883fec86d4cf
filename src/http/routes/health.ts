/**
 * `/health`: liveness (the process answers), readiness (intake open: bootstrap done, log healthy, not draining), HA
 * role and log position. 200 when ready, 503 when not — the body says which part is missing either way.
 * `/health/live` is the bare liveness probe. With config auth.protectServiceRoutes, a caller without a token gets the
 * summary (HealthSummaryBody: live, ready, draining, role, the same status) and the rest takes a service reader's
 * token (auth/service-routes.ts). Without it, anyone gets the whole body, but the error texts (`log.error`,
 * `disk.error`, and `ha`'s: they name files of the data dir) only with a service reader's token; others get a stable
 * code (and `ha`'s `moved_to` only the set-aside log's name in the data dir).
 *
 * The body is built as HealthBody, the output type of the schema the document's Health component is generated from
 * (openapi/health-schema.ts): a field the route adds, drops, renames or retypes without the schema, or the schema
 * without the route, fails tsc. Its parts built elsewhere are typed the same way (worker-threads.ts, audit-status.ts,
 * and `ha`: HaNodeStatus, tied to the HaStatus component in ha-status-schema.ts).
 */

import { Hono, type Context } from 'hono'
import { openBackOfficeOf } from '../../backoffice/index.ts'
import { haStatusCodesOnly, stableCodeOf, type HaNodeStatus } from '../../runtime/ha/index.ts'
import { assertServiceReader, type ServiceRoutesAuth } from '../auth/index.ts'
import { ApiError } from '../errors.ts'
import type { HealthBody, HealthSummaryBody, LiveBody } from '../openapi/health-schema.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'
import { auditStatusJson, registerAuditStatusMetrics } from './audit-status.ts'
import { registerWorkerThreadMetrics, workerThreadsJson } from './worker-threads.ts'
import { venueLevels } from './venue-health.ts'

export function healthRoutes(services: Services): Hono {
  const app = new Hono()
  registerWorkerThreadMetrics(services)
  registerAuditStatusMetrics(services)
  app.get('/health/live', (c) => {
    queryOf(c, NO_QUERY)
    return c.json({ live: true } satisfies LiveBody)
  })
  app.get('/health', async (c) => {
    queryOf(c, NO_QUERY)
    const { gateway } = services
    const wal = gateway.engine.wal
    const draining = services.draining()
    const ready = gateway.ready && !draining
    const protection = services.serviceRoutes
    if (protection !== undefined) {
      // A probe sends no header: it gets what it decides by. A header is a request for the details, checked as such.
      if (c.req.header('Authorization') === undefined) return c.json({ live: true, ready, draining, role: services.role() } satisfies HealthSummaryBody, ready ? 200 : 503)
      await assertServiceReader(c, services.verifier, protection)
    }
    const errorTexts = protection !== undefined || (await isServiceReader(c, services))
    const body: HealthBody = {
      live: true,
      ready,
      draining,
      role: services.role(),
      mode: gateway.engine.state.mode,
      trading_switch: gateway.engine.state.tradingSwitch,
      log: {
        first_lsn: wal.firstLsn,
        last_lsn: wal.lastLsn,
        durability: wal.durability,
        queued_records: wal.queueDepth.records,
        error: wal.fatalError === null ? null : errorTexts ? wal.fatalError.message : stableCodeOf(wal.fatalError, 'WAL_FATAL'),
        quarantine: gateway.quarantine === null ? null : { files: gateway.quarantine.files, bytes: gateway.quarantine.bytes, review_needed: gateway.quarantine.reviewNeeded },
      },
      config_digest: services.configDigest,
      sse_subscribers: services.hub.subscriberCount,
      // The worker threads: running, whether they give way to the event loop, how long an answer has been awaited.
      threads: workerThreadsJson(services),
      // The audit self-check's progress (null: no audit duty); compaction keeps what it has not verified.
      audit: auditStatusJson(services),
      // Each venue's recorded health level (I-100 check 8; /v1/venue_health has the rest).
      venues: venueLevels(services),
      // The data dir's free space (http/disk/). Not part of `ready`: a node refusing new orders for its disk must still
      // be routed cancels, which a load balancer would stop sending to a node whose /health answered 503.
      disk: diskJson(services, errorTexts),
      // The back office's query model: a failed one is reported, not part of `ready` (orders do not depend on it).
      backoffice: backOfficeJson(services),
      // `satisfies`: a spread's fields escape the excess-property check of the literal around it.
      ...(services.ha === undefined ? {} : ({ ha: haJson(services.ha.status(), errorTexts) } satisfies Pick<HealthBody, 'ha'>)),
    }
    return c.json(body, ready ? 200 : 503)
  })
  return app
}

function backOfficeJson(services: Services): HealthBody['backoffice'] {
  const office = openBackOfficeOf(services.gateway)
  if (office === null) return null
  const { stopped, failing } = office.projector.writeFailures
  const error = stopped ?? failing
  return { query_model: stopped !== null ? 'stopped' : failing !== null ? 'write_failing' : 'following', error: error === null ? null : error.shortCode }
}

/** `ha`: its error texts and the paths it names (a set-aside log's) only to a service reader, as `log.error`. */
function haJson(status: HaNodeStatus, errorTexts: boolean): HaNodeStatus {
  return errorTexts ? status : haStatusCodesOnly(status)
}

function diskJson(services: Services, errorTexts: boolean): HealthBody['disk'] {
  const status = services.disk.status
  const error = status.error === null || errorTexts ? status.error : DISK_UNREADABLE
  return { free_bytes: status.freeBytes, free_bytes_min: status.freeBytesMin, new_orders_refused: status.refusing, error }
}

/** What an open /health shows for a failed read of the free space: statfs's message names the data dir. */
const DISK_UNREADABLE = 'FREE_SPACE_UNREADABLE'

/**
 * Whether an open /health (auth.protectServiceRoutes off) may show its caller the error texts: the log's fatal error
 * and the free-space read's, which name segment files and the data dir (and `ha`'s). Only to a service reader's token (ops,
 * auditor, admin), as the protected route shows its details; anyone else gets the stable code alone (review: the
 * texts went to every caller, token or not). A header that does not admit is not refused here: the route is open.
 */
async function isServiceReader(c: Context, services: Services): Promise<boolean> {
  if (c.req.header('Authorization') === undefined) return false
  try {
    await assertServiceReader(c, services.verifier, OPEN)
    return true
  } catch (error) {
    if (error instanceof ApiError) return false
    throw error
  }
}

/** An open /health's protection: no scrape token (one is configured only with protectServiceRoutes). */
const OPEN: ServiceRoutesAuth = { scrapeToken: null }
