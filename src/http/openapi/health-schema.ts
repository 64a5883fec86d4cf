/**
 * The body of `GET /health` (routes/health.ts), field by field — the same body with 200 (ready) and 503 (not ready,
 * or draining): the log, the worker threads (worker-threads.ts), the audit self-check (audit-status.ts) and, on a node
 * of an HA pair, `ha` (ha-status-schema.ts). The document's Health component is generated from HEALTH;
 * specs/http/openapi-health.test.ts holds real answers to it (a single node ready and draining, an HA leader, a
 * standby, a standby that took over); tsc holds the route to it (HealthBody).
 */

import * as v from 'valibot'
import type { Durability } from '../../../wal/index.ts'
import { HEALTH_LEVELS } from '../../domain/gate.ts'
import { MODES, TRADING_SWITCHES } from '../../domain/modes.ts'
import type { PriorityOutcome } from '../../runtime/thread-priority.ts'
import { count, flag, orNull, text, type Same } from './answer-fields.ts'
import { HA_STATUS, NODE_ROLE } from './ha-status-schema.ts'

const DURABILITIES = ['fsync', 'none'] as const
const THREAD_POLICIES = ['idle', 'normal'] as const

const LOG = v.strictObject({
  first_lsn: count('The first LSN the log holds (above 1 once compacted)'),
  last_lsn: count('The last LSN written (0: an empty log)'),
  durability: v.pipe(v.picklist(DURABILITIES), v.description('fsync: a write is answered once on disk; none: tests and paper only')),
  queued_records: count('Records waiting to be written'),
  error: orNull(
    text('message'),
    'Why the log stopped accepting writes (fatal; not ready until a restart); null while it is healthy. The message (it may name segment files) to an ops, auditor or admin token; without one, its stable code alone (WAL_FATAL, FSYNC_FAILED, LEASE_LOST, …)',
  ),
  quarantine: orNull(
    v.strictObject({
      files: count("Files in the data dir's quarantine/ when the log was opened: bytes cut from torn tails, kept since (they may hold acknowledged records; egress never deletes them)"),
      bytes: count('Their bytes in all'),
      review_needed: flag('More than config wal.quarantineFilesWarn files (default 100) or wal.quarantineBytesWarn bytes (default 1 GiB): review them and archive them elsewhere. Not part of `ready`'),
    }),
    'null: the directory could not be read',
  ),
})

const PRIORITY = v.variant('lowered', [
  v.strictObject({
    lowered: v.literal(true),
    nice: count('The nice value it took'),
    policy: v.pipe(v.picklist(THREAD_POLICIES), v.description('idle: SCHED_IDLE, preempted by any normal thread; normal: SCHED_IDLE was refused')),
    policy_refusal: v.exactOptional(text('Why SCHED_IDLE was refused (only with policy normal)')),
  }),
  v.strictObject({ lowered: v.literal(false), reason: text('Why its priority could not be lowered (not Linux, no C library, setpriority refused)') }),
])

const WORKER_THREAD = v.strictObject({
  running: flag('The thread runs'),
  priority: orNull(PRIORITY, 'The priority the thread said it took at start; null without a thread, or before it said'),
  answer_waiting_ms: count("How long its oldest unanswered request has waited (0: none waits); one that only grows is a hung thread"),
})

const AUDIT = v.strictObject({
  verified: flag('No tampering found (false after a finding)'),
  verified_through_lsn: count('The self-check has re-derived the chain up to this LSN'),
  unverified_records: count('Durable records after it; compaction keeps them'),
})

const DISK = v.strictObject({
  free_bytes: orNull(count("Free bytes on the data dir's file system at the last good read (read every storage.checkEveryMs)"), 'null before the first read'),
  free_bytes_min: count('The floor, storage.freeBytesMin; 0: none'),
  new_orders_refused: flag('New orders and amends get 503 DISK_LOW: below the floor, or the free space unreadable with a floor set. Cancels, flattens and reads pass, so `ready` stays as it is'),
  error: orNull(text('message'), "Why the last read of the free space failed or has not answered; null when it succeeded. The message (it names the data dir) to an ops, auditor or admin token; without one, FREE_SPACE_UNREADABLE"),
})

/** The back office's query model (src/backoffice/write-failures.ts), as /health shows it. */
export const QUERY_MODEL_STATES = ['following', 'write_failing', 'stopped'] as const

const BACKOFFICE = v.strictObject({
  query_model: v.pipe(
    v.picklist(QUERY_MODEL_STATES),
    v.description('following: written as the log grows; write_failing: its writes fail, the rows pending are retried every flush interval; stopped: failed writes reached their bound, it is written no further until a restart rebuilds it from the log. Not part of `ready`: orders do not depend on it'),
  ),
  error: orNull(text('code'), 'The last failed write while write_failing or stopped: QUERY_MODEL_WRITE_FAILED with its SQLite code (SQLITE_BUSY, SQLITE_FULL, …); null while following'),
})

export const HEALTH = v.pipe(
  v.strictObject({
    live: v.literal(true),
    ready: flag('Intake open: bootstrap done, the log healthy, not draining (and leading, on an HA node)'),
    draining: flag('Shutdown began: new requests (but /health) get 503 while in-flight ones finish'),
    role: v.pipe(NODE_ROLE, v.description('leader on a single node; on an HA node its role (as ha.role)')),
    mode: v.picklist(MODES),
    trading_switch: v.pipe(v.picklist(TRADING_SWITCHES), v.description('The operator’s brake: normal, halted, cancel_only')),
    log: LOG,
    config_digest: text("The effective config's digest (recorded in the log)"),
    sse_subscribers: count('Open SSE streams'),
    threads: v.strictObject({
      replay: orNull(WORKER_THREAD, "The back office's replay worker; null: no back office open"),
      self_check: orNull(WORKER_THREAD, "The audit self-check's thread; null: no audit duty"),
    }),
    audit: orNull(AUDIT, "The audit self-check's progress; null: no audit duty"),
    venues: v.pipe(
      v.record(v.string(), v.picklist(HEALTH_LEVELS)),
      v.description("Each venue's recorded health level (I-100 check 8 holds places and amends to a CRITICAL one); GET /v1/venue_health has the rest"),
    ),
    disk: DISK,
    backoffice: orNull(BACKOFFICE, 'null: no back office open'),
    ha: v.exactOptional(HA_STATUS),
  }),
  v.description('200 when ready, 503 when not: the body says which part is missing either way. `ha` only on a node of an HA pair'),
)

/**
 * The body of `GET /health` without a token where the service routes are protected (config auth.protectServiceRoutes):
 * what a load balancer decides by, nothing about venues, config or the log. Same status as the full body.
 */
export const HEALTH_SUMMARY = v.pipe(
  v.strictObject({
    live: v.literal(true),
    ready: flag('Intake open: bootstrap done, the log healthy, not draining (and leading, on an HA node)'),
    draining: flag('Shutdown began: new requests (but /health) get 503 while in-flight ones finish'),
    role: v.pipe(NODE_ROLE, v.description('leader on a single node; on an HA node its role')),
  }),
  v.description('200 when ready, 503 when not. The details (Health) take an ops, auditor or admin token, or the scrape token'),
)

export type HealthSummaryBody = v.InferOutput<typeof HEALTH_SUMMARY>

/**
 * What the route builds (routes/health.ts, with worker-threads.ts and audit-status.ts for their parts): a field added,
 * dropped, renamed or retyped on either side fails tsc there.
 */
export type HealthBody = v.InferOutput<typeof HEALTH>

/** The body of `GET /health/live` (routes/health.ts; an HA node still starting answers it too: src/cli/serve-ha.ts). */
export interface LiveBody {
  live: true
}

// The route's values are assignable to the schema's; these check the other way too (the schema lists no value the
// runtime never takes), which assignability alone would not.
type Lowered = Extract<PriorityOutcome, { lowered: true }>
const durabilitiesMatch: Same<(typeof DURABILITIES)[number], Durability> = true
const threadPoliciesMatch: Same<(typeof THREAD_POLICIES)[number], Lowered['policy']> = true
