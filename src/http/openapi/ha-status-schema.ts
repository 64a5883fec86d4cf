/**
 * `/health` → `ha` on a node of an HA pair (HaNode.status, src/runtime/ha/node.ts), field by field: the document's
 * HaStatus component is generated from HA_STATUS, and HA_STATUS is checked at compile time against the type the node
 * builds its status as (HaNodeStatus), so neither can change without the other. Its keys are snake_case at every
 * depth (the runtime's reports are mapped by src/runtime/ha/status-json.ts).
 */

import * as v from 'valibot'
import { SYNC_POLICIES, type HaNodeStatus, type NodeRole, type SyncState } from '../../runtime/ha/index.ts'
import { count, flag, integer, orNull, text, type Same } from './answer-fields.ts'

const NODE_ROLES = ['starting', 'standby', 'promoting', 'leader', 'stepping-down', 'stopped', 'failed'] as const
const SYNC_STATES = ['sync', 'down'] as const

export const NODE_ROLE = v.pipe(
  v.picklist(NODE_ROLES),
  v.description(
    'starting (no role yet), standby (following), promoting (taking over: the lease is held, bootstrap runs), leader, ' +
      'stepping-down (the lease was lost), stopped, failed (stopped for good: see failure)',
  ),
)

const POLICY = v.pipe(v.picklist(SYNC_POLICIES), v.description('--sync-replication'))

const SYNC_LEADING = v.strictObject({
  policy: POLICY,
  state: v.pipe(v.picklist(SYNC_STATES), v.description('sync: the standby holds the log durably and writes wait for it; down: it does not (gone, silent, or not caught up)')),
  timeout_ms: count('--sync-timeout-ms'),
  standby_durable_lsn: count('The standby holds the log durably up to this LSN (its last acknowledgement)'),
  last_ack_age_ms: orNull(integer('ms'), "Since the standby's last acknowledgement (wall clock); null before the first"),
  waiting: count('Write answers (202s) waiting for the standby'),
  sends_waiting: count('Venue place/amend calls waiting for the standby'),
  timeouts: count('Waits that timed out this term'),
  in_sync: orNull(
    v.array(
      v.strictObject({
        node_id: orNull(text('--node-id'), 'The standby; null: the standbys too old to name their node (one member for all of them)'),
        joined_lsn: count('The LSN it joined the set at (a taker that is a member must hold it)'),
        durable_lsn: count('The LSN it last acknowledged holding durably this term (0: none yet)'),
        live: flag('Acknowledging within the timeout and caught up'),
        state: v.pipe(
          v.picklist(['member', 'joining', 'leaving']),
          v.description('member: in the lease record; joining: being written in (writes already wait for it, its acknowledgements release none until written); leaving: fell out, being written out'),
        ),
      }),
    ),
    'The in-sync set: the standbys every write waits for, kept in the lease record (a node outside it never takes over: LEASE_NOT_IN_SYNC); null under off',
  ),
})

const SYNC_NOT_LEADING = v.strictObject({ policy: POLICY, state: v.literal('down') })

const DIVERGENCE = v.strictObject({
  outcome: v.pipe(
    v.picklist(['prefix_kept', 'log_set_aside', 'failed']),
    v.description('prefix_kept: the log shared with the leader was kept; log_set_aside: the whole log went aside, re-synced from scratch (see fallback); failed: setting the records aside failed (see error)'),
  ),
  common_lsn: count('The last LSN this log shares with the leader'),
  discarded_from_lsn: count('First LSN beyond common_lsn'),
  discarded_to_lsn: count('Last LSN this log held'),
  discarded_count: count('Records beyond common_lsn'),
  discarded_epochs: v.pipe(v.array(count('epoch')), v.description('The distinct epochs of those records, oldest first (the first 16)')),
  discarded_epoch_count: count('How many distinct epochs those records have'),
  discarded_examples: v.pipe(
    v.array(v.strictObject({ lsn: count('LSN'), epoch: count('epoch') })),
    v.description('The first and the last 3 of those records, oldest first'),
  ),
  moved_to: text("Where the old log went whole (its snapshots beside it); when failed, where it was being moved. Its path to an ops, auditor or admin token on an open /health; without one, its name in the data dir"),
  kept_prefix_to_lsn: orNull(count('LSN'), 'The log was kept up to and including this LSN; null: re-synced from scratch'),
  linked_segments: count('Segments of the kept log shared with the one set aside (hard links)'),
  linked_bytes: count('bytes'),
  copied_segments: count('Segments copied (the cut one last)'),
  copied_bytes: count('bytes'),
  snapshots_kept: v.pipe(v.array(count('LSN')), v.description('LSNs of the snapshots kept, newest first')),
  build_ms: count('How long building the kept log and swapping it in took (0 when nothing was kept)'),
  fallback: orNull(text('CODE: why'), 'Why the shared log was not kept, or null. The text (it may name the data dir) to an ops, auditor or admin token on an open /health; without one, its code alone'),
  error: orNull(text('FSYNC_FAILED: … or SET_ASIDE_FAILED: …'), 'Why setting the records aside failed, or null. The text (it may name the data dir) to an ops, auditor or admin token on an open /health; without one, its code alone'),
})

const AT_MS = integer('When it ended (ms since the epoch)')
const LEADER_FIRST_LSN = count("The leader's first LSN when it answered RESYNC_REQUIRED")

const SNAPSHOT_RECOVERY = v.variant('state', [
  v.strictObject({
    state: v.literal('recovered'),
    at_ms: AT_MS,
    leader_first_lsn: LEADER_FIRST_LSN,
    snapshot_lsn: count("The leader's snapshot this node started again from"),
    snapshot_digest: text("The snapshot's digest"),
    previous_last_lsn: count('Last LSN of the log moved aside'),
    moved_to: text('Where the old log went (its snapshots beside it). Its path to an ops, auditor or admin token on an open /health; without one, its name in the data dir'),
    last_lsn: count("The new log's last LSN after the first pull"),
  }),
  v.strictObject({
    state: v.literal('failed'),
    at_ms: AT_MS,
    leader_first_lsn: LEADER_FIRST_LSN,
    code: v.pipe(
      v.picklist(['SNAPSHOT_UNAVAILABLE', 'SNAPSHOT_TOO_LARGE', 'SNAPSHOT_INVALID', 'CATCH_UP_FAILED', 'SNAPSHOT_RECOVERY_FAILED', 'FSYNC_FAILED']),
      v.description('FSYNC_FAILED is fatal (role failed); the others are retried'),
    ),
    error: text('What went wrong. The text to an ops, auditor or admin token on an open /health; without one, the code again'),
  }),
])

const SHADOW = v.strictObject({
  decisions: count('Command records decided again on this node'),
  matches: count('Decisions whose events equal the leader’s'),
  mismatches: count('Decisions whose events differ (must stay 0)'),
  events_without_command: count('Events the leader logged with no command record before them'),
  last_mismatches: v.pipe(
    v.array(
      v.strictObject({
        lsn: count('LSN of the command record'),
        kind: orNull(text('command kind'), "The command's kind; null when the record itself did not decode"),
        difference: text('The first difference, in words'),
      }),
    ),
    v.description('The last 16 mismatches'),
  ),
})

export const HA_STATUS = v.pipe(
  v.strictObject({
    role: NODE_ROLE,
    node_id: text('--node-id'),
    epoch: count("The lease's epoch while holding one, else its log's last epoch; 0 with neither (an empty log, or no gateway)"),
    leader: orNull(text('URL'), "The leader's advertised URL: this node's while leading with its lease held, else as the current lease names it (a leader whose lease was taken names the taker until it steps down); null when no unexpired lease names one"),
    ready: flag('Leading: the lease is held and the gateway is ready; following: the replication stream is connected'),
    lag_records: count('Records the leader has that this log does not yet, as of the last envelope (0 while leading)'),
    replicating: flag('A replication stream from the leader is connected'),
    last_takeover_ms: orNull(integer('ms'), 'How long the last takeover took, lease taken to intake open (ms); null: this node never took over'),
    last_takeover_lag: orNull(
      v.strictObject({
        epoch: count('The epoch taken'),
        log_last_lsn: count("This log's last LSN when the lease was taken"),
        leader_last_lsn: orNull(count('LSN'), "The old leader's last LSN as its last envelope said; null: no leader was heard from"),
        records_behind: orNull(count('records'), 'Records the old leader held beyond this log, at least (asynchronous replication: possibly acknowledged orders, lost unless that node comes back); null: unknown'),
      }),
      'What this log lacked of the old leader\'s when this node last took the lease; null: it never took over',
    ),
    last_divergence: orNull(DIVERGENCE, 'The last time this node found it held records the leader lacks, and what became of them; null: never'),
    failure: orNull(text('CODE: message'), 'What stopped this node for good (role failed: FSYNC_FAILED, WAL_FATAL, FOLLOW_FAILED, NODE_STUCK); null while it runs. The text (it may name the data dir) to an ops, auditor or admin token on an open /health; without one, its code alone'),
    last_snapshot_recovery: orNull(SNAPSHOT_RECOVERY, "The last time this node started again from the leader's snapshot (or tried to); null: never"),
    sync: v.pipe(v.union([SYNC_LEADING, SYNC_NOT_LEADING]), v.description('Synchronous replication: in full while leading; only the policy otherwise')),
    shadow: orNull(SHADOW, 'Shadow decisions while following: leader commands decided again here; null while leading'),
    command_record_failures: count('Leading: commands that could not be written as kernel.command records (the standby cannot re-decide them)'),
    takeover_refused: orNull(
      v.strictObject({
        code: v.pipe(
          v.picklist(['LEASE_LOG_BEHIND', 'LEASE_NOT_IN_SYNC']),
          v.description("LEASE_LOG_BEHIND: this log ends below the lease record's floor (or below the LSN this node joined its in-sync set at); LEASE_NOT_IN_SYNC: the record's in-sync set does not name this node"),
        ),
        at_ms: integer('ms'),
        holder: text('The holder of the lease record that refused this node: node id and URL'),
        epoch: count("That record's epoch"),
        replicated_lsn: count("The record's floor: an LSN a standby of that holder held durably (every acknowledged order at or below it, under synchronous replication, up to its last renewal)"),
        log_last_lsn: count("Where this node's log ended"),
        in_sync: orNull(v.array(text('node id ("" : the standbys too old to name their node)')), "The record's in-sync set (LEASE_NOT_IN_SYNC); null: the refusal was of the floor"),
      }),
      'Why this node last refused to take the free lease (it stays standby and retries; --accept-data-loss overrides); null once the lease is held again or taken, or if it never refused',
    ),
    takeover_would_refuse: orNull(
      v.strictObject({
        code: v.pipe(v.literal('VENUE_GONE_ORDERS_OPEN'), v.description("A leader start on this node's config would be refused")),
        at_ms: integer('ms'),
        log_last_lsn: count("Where this node's log ended at the last check (caught up with the leader)"),
        venues: v.pipe(
          v.array(
            v.strictObject({
              venue: text('A venue the config no longer lists'),
              count: count('Orders not ended on it'),
              order_ids: v.pipe(v.array(text('order id')), v.description('The first few of them, sorted')),
              awaiting_true_up: v.pipe(
                v.strictObject({
                  count: count('Orders ended on it that hold synthetic quantity not yet trued up'),
                  order_ids: v.pipe(v.array(text('order id')), v.description('The first few of them, sorted')),
                }),
                v.description("Ended orders whose synthetic fill (inferred from the venue's status) still waits for the real trades behind it; started without the venue, its guessed price and missing fee would stay in the books"),
              ),
            }),
          ),
          v.description('Each such venue'),
        ),
      }),
      "Caught up with the leader, this standby's log holds orders not ended (or ended awaiting a true-up) on a venue its config no longer lists, so its takeover would be refused (put the entry back and restart it, or end those orders); null: it would not, or not checked",
    ),
  }),
  v.description('The node of an HA pair: role, epoch, leader, readiness, replication, takeover, divergence, snapshot recovery, synchronous replication, shadow decisions'),
)

// tsc fails here when the node's status and this schema part ways (a field added, dropped, renamed or retyped).
const haStatusMatches: Same<v.InferOutput<typeof HA_STATUS>, HaNodeStatus> = true
const nodeRolesMatch: Same<(typeof NODE_ROLES)[number], NodeRole> = true
const syncStatesMatch: Same<(typeof SYNC_STATES)[number], SyncState> = true
