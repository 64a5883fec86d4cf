/**
 * `POST /v1/admin/snapshot` (ops or admin): takes a snapshot of the projections now — kernel state and back office at
 * one LSN (src/runtime/snapshot) — and answers with where it went and what it cost: LSN, file, digest, bytes, the
 * intake pause and the longest event-loop block. Nothing changed since the newest snapshot: 200 with `taken: false`.
 * A snapshot already being written is waited for, then this one is taken. Snapshots disabled in the config: 409
 * CONFLICT (reason snapshots_disabled); a snapshot that fails: 503 UNAVAILABLE with why. The pause figures are on
 * /metrics.
 *
 * Why ops may too: a snapshot changes no trading state and is what the gateway does on its own at shutdown and on its
 * configured schedule; operators need it before maintenance. Compaction after it follows the configured policy only.
 */

import { Hono } from 'hono'
import * as v from 'valibot'
import { SnapshotsDisabledError, type CompactResult, type SnapshotTaken } from '../../runtime/snapshot/index.ts'
import { requireRole, type AuthEnv } from '../auth/index.ts'
import { readJson } from '../body.ts'
import { ApiError, parseOrThrow } from '../errors.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'
import { requireReady } from './support.ts'

export const SNAPSHOT_BODY_SCHEMA = v.strictObject({})

export function adminSnapshotRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  registerSnapshotMetrics(services)
  app.post('/v1/admin/snapshot', requireRole('ops', 'admin'), async (c) => {
    queryOf(c, NO_QUERY)
    parseOrThrow(SNAPSHOT_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax, emptyAsObject: true }))
    requireReady(services)
    const { gateway } = services
    if (gateway.engine.wal.fatalError !== null) throw new ApiError('UNAVAILABLE', 'the log has failed: no snapshot can be taken', { details: { reason: 'log_failed' } })
    let taken: SnapshotTaken | null
    try {
      taken = await gateway.snapshot()
    } catch (error) {
      if (error instanceof SnapshotsDisabledError) throw new ApiError('CONFLICT', error.message, { details: { reason: 'snapshots_disabled' } })
      const message = error instanceof Error ? error.message : String(error)
      throw new ApiError('UNAVAILABLE', `snapshot failed: ${message}`, { details: { reason: 'snapshot_failed', detail: message }, cause: error })
    }
    const stats = gateway.snapshotter.stats
    if (taken === null) {
      // Nothing new since the newest snapshot, or the back office is not open yet (the instant after start) or its query
      // model stopped after failed writes (until a restart: /health backoffice).
      const waiting = (gateway.options.snapshotSections ?? []).filter((source) => source.ready?.() === false).map((source) => source.name)
      const reason = waiting.length === 0 ? 'nothing new since the newest snapshot' : `not ready: ${waiting.join(', ')} (not open yet, or its query model stopped: /health); try again`
      return c.json({ taken: false, reason, lsn: gateway.engine.state.lastLsn, newest: stats.last === null ? null : { lsn: stats.last.lsn, file: stats.last.file } })
    }
    return c.json({
      taken: true,
      lsn: taken.lsn,
      file: taken.file,
      digest: taken.digest,
      bytes: taken.bytes,
      pause_ms: round(taken.pauseMs),
      block_ms_max: round(taken.blockMsMax),
      write_ms: round(taken.writeMs),
      total_ms: round(taken.totalMs),
      compaction: stats.lastCompaction === null ? null : compactionJson(stats.lastCompaction),
    })
  })
  return app
}

/** What a compaction removed; `held_back`: the audit self-check had not verified up to the snapshot yet. */
function compactionJson(compaction: CompactResult): object {
  return { removed: compaction.removed, first_lsn: compaction.firstLsnAfter, mode: compaction.mode, held_back: compaction.heldBack, bound_lsn: compaction.boundLsn }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/** The snapshotter's figures on /metrics: the intake pause (last, max), the longest block, counts, the newest LSN. */
function registerSnapshotMetrics(services: Services): void {
  const registry = services.metrics.registry
  // Once per registry: an app built twice over the same services (tests do) adds the metrics once.
  registry.once('snapshot', () => {
    const gauge = (name: string, help: string) => registry.gauge({ name, help, labelNames: [] })
    const pauseLast = gauge('egress_snapshot_pause_seconds_last', 'Intake pause of the last snapshot (the synchronous capture of every section).')
    const pauseMax = gauge('egress_snapshot_pause_seconds_max', 'Longest intake pause of any snapshot since start.')
    const blockMax = gauge('egress_snapshot_block_seconds_max', 'Longest single stretch any snapshot held the event loop (capture, encode slice, hashing, write).')
    // Running totals since start: counters (the _total names of the Prometheus conventions), so rate() and increase()
    // apply and a restart reads as a counter reset.
    const taken = registry.counter({ name: 'egress_snapshots_taken_total', help: 'Snapshots taken since start (periodic, on demand, shutdown).', labelNames: [] })
    const failed = registry.counter({ name: 'egress_snapshots_failed_total', help: 'Snapshots that failed since start.', labelNames: [] })
    const lastLsn = gauge('egress_snapshot_last_lsn', 'LSN of the newest snapshot this process wrote (0: none yet).')
    registry.beforeRender(() => {
      const stats = services.gateway.snapshotter.stats
      pauseLast.set(stats.pauseMsLast / 1000)
      pauseMax.set(stats.pauseMsMax / 1000)
      blockMax.set(stats.blockMsMax / 1000)
      taken.advanceTo(stats.taken)
      failed.advanceTo(stats.failed)
      lastLsn.set(stats.last?.lsn ?? 0)
    })
  })
}
