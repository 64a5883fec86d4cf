/**
 * `/health`: liveness (the process answers), readiness (intake open: bootstrap done, log healthy, not draining), HA
 * role and log position. 200 when ready, 503 when not — the body says which part is missing either way.
 * `/health/live` is the bare liveness probe.
 */

import { Hono } from 'hono'
import type { Services } from '../services.ts'
import { auditStatusJson, registerAuditStatusMetrics } from './audit-status.ts'
import { registerWorkerThreadMetrics, workerThreadsJson } from './worker-threads.ts'

export function healthRoutes(services: Services): Hono {
  const app = new Hono()
  registerWorkerThreadMetrics(services)
  registerAuditStatusMetrics(services)
  app.get('/health/live', (c) => c.json({ live: true }))
  app.get('/health', (c) => {
    const { gateway } = services
    const wal = gateway.engine.wal
    const draining = services.draining()
    const ready = gateway.ready && !draining
    const body = {
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
        error: wal.fatalError === null ? null : wal.fatalError.message,
      },
      config_digest: services.configDigest,
      sse_subscribers: services.hub.subscriberCount,
      // The worker threads: running, whether they give way to the event loop, how long an answer has been awaited.
      threads: workerThreadsJson(services),
      // The audit self-check's progress (null: no audit duty); compaction keeps what it has not verified.
      audit: auditStatusJson(services),
      ...(services.ha === undefined ? {} : { ha: services.ha.status() }),
    }
    return c.json(body, ready ? 200 : 503)
  })
  return app
}
