/**
 * The HTTP side of a running gateway, assembled: log index, SSE hub, load shedder, metrics and the app. `serve`
 * builds one around its Gateway; tests build one around a test gateway and call `app.request()`.
 */

import { randomBytes } from 'node:crypto'
import type { Hono } from 'hono'
import { readBudgetOf, storageConfigOf, type Config } from '../config/index.ts'
import { idleCollectorPacingStats, type CollectorPacingStats } from '../runtime/collector-pacing.ts'
import type { Gateway } from '../runtime/gateway.ts'
import type { NodeRole } from '../runtime/ha/index.ts'
import { createApp } from './app.ts'
import { HTTP_DEFAULTS } from './defaults.ts'
import type { AuthEnv, ServiceRoutesAuth, Verifier } from './auth/index.ts'
import { LoadShedder, ReadBudget } from './backpressure/index.ts'
import { followCollectorPacing } from './collector-metrics.ts'
import { DiskWatch, registerDiskMetrics, type FreeBytesReader } from './disk/index.ts'
import { GatewayMetrics } from './gateway-metrics.ts'
import { LogIndex } from './log-index.ts'
import { OrderListIndex } from './order-list/index-of-orders.ts'
import type { HaHttp, HttpLimits, Services } from './services.ts'
import { authorityChecksPerHeartbeat, SseHub } from './sse/index.ts'

export { HTTP_DEFAULTS }

export interface HttpServiceOptions {
  gateway: Gateway
  verifier: Verifier
  configDigest: string
  backpressure: Config['backpressure']
  sse: Config['sse']
  /** The data dir's free-space floor and check interval (config `storage`); unset: no floor, read every 5 s. */
  storage?: Config['storage']
  /** The data dir's free-space reader (statfs by default); a spec passes its own. */
  readFreeBytes?: FreeBytesReader
  /** The process's collector pacing (serve's), whose figures /metrics shows; unset: zeros. */
  collectorPacing?: Readonly<CollectorPacingStats>
  /** Where the free-space watch's edge-triggered lines go (serve's log); unset: stderr. */
  say?: (line: string) => void
  limits?: Partial<HttpLimits>
  sseSubscribersMax?: number
  sseSubscribersPerPrincipalMax?: number
  role?: () => NodeRole
  /**
   * The secret `GET /v1/orders` cursors are sealed with (order-list/cursor.ts): the same across restarts (serve:
   * <dataDir>/auth/cursor.secret) and on both nodes of an HA pair (derived from the replication token, never the token
   * itself: config/ha-cursor-secret.ts), so a cursor handed out
   * before either is still recognised. Unset: a random one of this service alone, and such cursors answer 400.
   */
  cursorSecret?: string
  /** The monotonic clock the rate buckets refill by (ms); performance.now() by default. */
  bucketsNowMs?: () => number
  ha?: HaHttp
  /** Protected service routes (serviceRoutesAuthFromConfig); unset: /health, /metrics and /openapi.json answer anyone. */
  serviceRoutes?: ServiceRoutesAuth
  log?: (message: string, error: unknown) => void
}

export interface HttpService {
  app: Hono<AuthEnv>
  services: Services
  /** Stops intake (503 for new requests) and ends every SSE stream with a final event. */
  drain(): void
  /**
   * Resolves once no request is in flight (Services.requests.inFlight), or after `graceMs`: a shutdown that drained
   * gives the requests it took that long to be answered, without closing the server (an HA leader still serves its
   * standby the log's tail meanwhile).
   */
  settled(graceMs: number): Promise<void>
  close(): void
}

/** How often settled() looks whether the requests in flight were answered. */
const SETTLED_POLL_MS = 10

export function createHttpService(options: HttpServiceOptions): HttpService {
  const { gateway } = options
  let draining = false
  const metrics = new GatewayMetrics()
  const bucketsNowMs = options.bucketsNowMs ?? (() => performance.now())
  const shedder = new LoadShedder({
    account: options.backpressure.account,
    bot: options.backpressure.bot,
    symbol: options.backpressure.symbol,
    inFlightMax: options.backpressure.inFlightMax,
    bucketsMax: HTTP_DEFAULTS.bucketsMax,
    nowMs: bucketsNowMs,
  })
  const readBudget = new ReadBudget({ limits: readBudgetOf(options.backpressure), bucketsMax: HTTP_DEFAULTS.bucketsMax, nowMs: bucketsNowMs })
  const logIndex = LogIndex.build(gateway.engine)
  const log = options.log ?? ((message, error) => console.error(message, error))
  const orderList = new OrderListIndex(gateway.engine.state.orders, (error) => log('order list index: a change could not be followed; rebuilding it at the next read', error))
  const subscribersMax = options.sseSubscribersMax ?? HTTP_DEFAULTS.sseSubscribersMax
  const sync = options.ha?.sync
  const hub = new SseHub({
    engine: gateway.engine,
    retiredOrderAccountOf: (orderId) => logIndex.orderAccountOf(orderId),
    retiredOrdersKnown: () => logIndex.whenComplete(),
    heartbeatMs: options.sse.heartbeatMs,
    bufferEventsMax: options.sse.subscriberBufferEventsMax,
    subscribersMax,
    // Every stream re-verified within one JWKS reload interval of a key change (the interval that lets a change be
    // seen at all), spread over the heartbeats in it. Without a JWKS file the keys never change: only each stream's
    // first check counts, spread over the same span as with the default interval.
    authorityChecksPerHeartbeatMax: authorityChecksPerHeartbeat({ subscribersMax, heartbeatMs: options.sse.heartbeatMs, windowMs: options.verifier.keysReloadMs ?? HTTP_DEFAULTS.sseAuthorityCheckWindowMs }),
    subscribersPerPrincipalMax: options.sseSubscribersPerPrincipalMax ?? HTTP_DEFAULTS.sseSubscribersPerPrincipalMax,
    onSubscribersChanged: (count, kind) => metrics.sseSubscribers.set(count, { stream: kind }),
    onDisconnect: (reason) => metrics.sseDisconnects.inc(1, { reason }),
    // Under synchronous replication the streams show only what the node may acknowledge (sse/held-back.ts).
    ...(sync === undefined || sync.policy === 'off' ? {} : { bound: sync }),
  })
  metrics.attach(gateway, { inFlight: () => shedder.inFlight })
  const storage = storageConfigOf({ storage: options.storage })
  const disk = new DiskWatch({
    dir: gateway.options.dataDir,
    freeBytesMin: storage.freeBytesMin,
    checkEveryMs: storage.checkEveryMs,
    ...(options.readFreeBytes === undefined ? {} : { read: options.readFreeBytes }),
    log: options.say ?? ((line) => console.error(line)),
  })
  // Read at once, then on its timer; serve awaits `disk.refresh()` before it listens, so the first answer has a reading.
  // An HA node's role change serves the new service at once: until the first reading, a floor refuses (not_read_yet).
  void disk.start()
  registerDiskMetrics(metrics.registry, disk)
  metrics.followJwks(() => options.verifier.jwksStatus())
  // Always rendered: a service without a pacer (an in-process gateway) shows its figures at zero, as a stable series.
  followCollectorPacing(metrics.registry, options.collectorPacing ?? idleCollectorPacingStats())
  const services: Services = {
    gateway,
    requests: { started: 0, inFlight: 0 },
    verifier: options.verifier,
    logIndex,
    orderList,
    hub,
    shedder,
    disk,
    readBudget,
    cursorSecret: options.cursorSecret ?? randomBytes(32).toString('base64url'),
    metrics,
    limits: {
      bodyBytesMax: HTTP_DEFAULTS.bodyBytesMax,
      listPageMax: HTTP_DEFAULTS.listPageMax,
      listExaminedMax: HTTP_DEFAULTS.listExaminedMax,
      readDurableWaitMsMax: HTTP_DEFAULTS.readDurableWaitMsMax,
      ...options.limits,
    },
    role: options.role ?? (() => 'leader'),
    configDigest: options.configDigest,
    draining: () => draining,
    ...(options.ha === undefined ? {} : { ha: options.ha }),
    ...(options.serviceRoutes === undefined ? {} : { serviceRoutes: options.serviceRoutes }),
    log,
  }
  return {
    app: createApp(services),
    services,
    drain: () => {
      draining = true
      hub.close('shutdown')
    },
    settled: async (graceMs) => {
      // A duration: on the monotonic clock, as a wall clock stepped forward cut the grace short and one stepped back
      // held the stop for the length of the step.
      const deadline = performance.now() + graceMs
      while (services.requests.inFlight > 0 && performance.now() < deadline) await Bun.sleep(SETTLED_POLL_MS)
    },
    close: () => {
      draining = true
      hub.close('shutdown')
      logIndex.close()
      orderList.close()
      disk.close()
      metrics.detach()
    },
  }
}
