/**
 * What the routes work with: the gateway, the verifier, the log index, the SSE hub, the load shedder, metrics and the
 * HTTP limits. Built once per process by `createHttpService` (service.ts); tests build it around a test gateway.
 */

import type { Gateway } from '../runtime/gateway.ts'
import type { HaNodeStatus, NodeRole } from '../runtime/ha/index.ts'
import type { SnapshotStore } from '../runtime/snapshot/index.ts'
import type { ServiceRoutesAuth, Verifier } from './auth/index.ts'
import type { LoadShedder, ReadBudget } from './backpressure/index.ts'
import type { DiskWatch } from './disk/index.ts'
import type { GatewayMetrics } from './gateway-metrics.ts'
import type { LogIndex } from './log-index.ts'
import type { OrderListIndex } from './order-list/index-of-orders.ts'
import type { SseHub } from './sse/index.ts'

export interface HttpLimits {
  /** Request bodies above this are refused with 413 before they are parsed. */
  bodyBytesMax: number
  /** Largest page `GET /v1/orders` returns. */
  listPageMax: number
  /** Orders one `GET /v1/orders` page reads at most, matching its filters or not (order-list/page.ts). */
  listExaminedMax: number
  /**
   * How long a read of the kernel's memory waits for the log to hold what it shows (routes/support.ts durableAnswer)
   * before it is answered 503 UNAVAILABLE: a batch's write normally; a stalled disk would hold it for good.
   */
  readDurableWaitMsMax: number
}

/** Synchronous replication as the HTTP layer uses it (src/runtime/ha/sync.ts). */
export interface HaSyncHttp {
  /**
   * Standby `nodeId` (absent: one too old to name itself) holds everything up to `lsn` of the log of `epoch`'s leader
   * durably (POST /replication/ack); counted for this term's epoch only. False: not counted (another epoch, or more
   * standbys than the leader tracks).
   */
  acknowledge(lsn: number, epoch: number, nodeId?: string): boolean
  /** Before a new order is written: why it must be refused (fail_closed, standby gone), or null. */
  refusal(): string | null
  /** After a write: resolves once the standby holds `lsn`, at once when not waiting, or on timeout. */
  wait(lsn: number): Promise<'replicated' | 'not_waited' | 'timeout'>
  /** This log's last LSN now (what a write just made durable is at or below it). */
  leaderLastLsn(): number
  /** `off`: nothing waits, and the SSE streams show what is durable here (no bound). */
  readonly policy: 'off' | 'fail_closed' | 'degrade_async'
  /** The highest LSN the node may show as acknowledged, given this log's durable end (the SSE streams' bound). */
  acknowledgeableLsn(localLsn: number): number
  /** Calls `listener` whenever acknowledgeableLsn may have moved; returns its removal. */
  onAcknowledgeableMoved(listener: () => void): () => void
}

/** What the HTTP layer needs from the HA node (src/runtime/ha); absent on a single node. */
export interface HaHttp {
  /** Shared secret the standby presents as a bearer token on the replication routes. */
  replicationToken: string
  /** True while this node holds the lease and has opened intake. */
  isLeader: () => boolean
  /** The leader's base URL as the lease names it (for NOT_LEADER answers), or null. */
  leaderUrl: () => string | null
  /** Role, epoch, lag and readiness for /health (its `ha`). */
  status: () => HaNodeStatus
  /** Bytes of frames per replication envelope; heartbeat interval of an idle stream. */
  chunkBytesMax: number
  heartbeatMs: number
  /** Replication streams and snapshot downloads served at once (routes/replication.ts REPLICATION_TRANSFERS_MAX unset). */
  transfersMax?: number
  /** The leader's synchronous replication; absent on a standby (and in older callers: acknowledgements ignored). */
  sync?: HaSyncHttp
  /** This node's own id (`--node-id`): an acknowledgement naming it is refused (two nodes on one id). Absent: not checked. */
  nodeId?: string
  /** The node's snapshot store: the leader serves its newest valid snapshot to a standby below its compacted log. */
  snapshots?: () => SnapshotStore | null
}

export interface Services {
  gateway: Gateway
  /**
   * `started`: requests under /v1 begun since the service was made (collector pacing's sign that the gateway is not
   * idle). `inFlight`: requests taken (not refused while draining) whose answer is not decided yet — a streamed body
   * (SSE, replication) counts until its Response is made (a shutdown's wait for answers, HttpService.settled).
   */
  requests: { started: number; inFlight: number }
  verifier: Verifier
  logIndex: LogIndex
  /** The kernel's orders in acceptance order, by account (GET /v1/orders). */
  orderList: OrderListIndex
  hub: SseHub
  shedder: LoadShedder
  /** The data dir's free space: DISK_LOW for new orders and amends below its floor, `disk` on /health. */
  disk: DiskWatch
  /** What `GET /v1/orders` cursors are sealed with (order-list/cursor.ts). */
  cursorSecret: string
  /** GET requests under /v1 per caller (read-limit.ts). */
  readBudget: ReadBudget
  metrics: GatewayMetrics
  limits: HttpLimits
  /** HA role reported by /health; `leader` for a single node. */
  role: () => NodeRole
  configDigest: string
  /** True once shutdown began: new requests get 503 while in-flight ones finish. */
  draining: () => boolean
  /** HA node (replication routes, NOT_LEADER for writes on a standby); absent on a single node. */
  ha?: HaHttp
  /** Config auth.protectServiceRoutes (auth/service-routes.ts): absent, /health, /metrics and /openapi.json answer anyone. */
  serviceRoutes?: ServiceRoutesAuth
  /** Where unexpected errors go (never the response). */
  log: (message: string, error: unknown) => void
}
