/**
 * The gateway's metrics (issue 4): order-path latencies, the log's fsync latency and batch size, lane depths, rejects
 * by reason (the kernel's, and the venue's as VENUE_REJECTED), venue refusals by venue reject code, Unknown orders and their dwell, reconcile outcomes, SSE subscribers
 * and drops, load shedding. Labels are bounded dictionaries (reason codes, venue reject codes, lanes, route names,
 * stream kinds) — never an order or account id.
 *
 * Order-path latencies come from the events' own times (`atMs`, the time of the command that caused each step), so
 * they measure the gateway's decisions, not when the metrics listener happened to run. The per-order start times
 * this needs are kept by OrderTimings (order-timings.ts), bounded in count and, for ended orders, in time.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { ReasonCode } from '../domain/reasons.ts'
import { queueDepths, retiredEarlyCount, unknownOrders } from '../kernel/index.ts'
import type { Gateway } from '../runtime/gateway.ts'
import type { JwksErrorCode, JwksStatus } from './auth/index.ts'
import { LATENCY_BUCKETS_SEC, MetricsRegistry, type Counter, type Gauge, type Histogram } from './metrics/index.ts'
import { followFillGaps } from './fill-gap-metrics.ts'
import { followSendPacing } from './send-pacing-metrics.ts'
import { OrderTimings } from './order-timings.ts'
import { venueRejectOf } from './venue-reject/of-event.ts'
import type { ShedScope } from './backpressure/index.ts'

const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]
const DWELL_BUCKETS_SEC = [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800]
/**
 * Accept → first fill: the latency buckets, then up to an hour. A resting limit order fills when the market comes to it,
 * seconds to hours after its acceptance; with the order paths' buckets (to 10 s) most such samples fell in +Inf alone.
 */
const FIRST_FILL_BUCKETS_SEC: readonly number[] = [...LATENCY_BUCKETS_SEC, 30, 60, 300, 900, 3600]
/**
 * egress_reconcile_outcomes_total's series for `order.reconcile_deferred`: no new state, and no reason in the record,
 * so the dictionary's code for it. Every `reason` label is a reason code (specs/http/metrics/reason-labels.test.ts).
 */
const RECONCILE_DEFERRED_LABELS = { state: 'deferred', reason: 'RECONCILE_DEFERRED' satisfies ReasonCode } as const
/**
 * Its series for `order.overfill_recheck`: the venue reports the order filled past its quantity, so nothing is booked,
 * the order stays Unknown and is asked again later: deferred too, under the reason the overfill is alerted with.
 */
const OVERFILL_RECHECK_LABELS = { state: 'deferred', reason: 'FILL_OVERFILL' satisfies ReasonCode } as const
/**
 * egress_order_rejects_total's series for a venue's refusal of an order's place (`order.venue_rejected`): the order is
 * Rejected as surely as by the kernel, so an operator watching rejects sees it there, under the dictionary's code for
 * it. Which refusal it was (the venue reject code) stays in egress_venue_rejects_total{action="place", code}: the two
 * agree, one record counted in each.
 */
const VENUE_REJECTED_LABELS = { reason: 'VENUE_REJECTED' satisfies ReasonCode } as const

export interface GatewayMetricsOptions {
  /** Orders whose latencies are timed at once (default 100 000). */
  trackedOrdersMax?: number
  /** How long an order the venue canceled or expired waits for a late fill's latency sample (default 60 s). */
  lateFillWindowMs?: number
}

/** What was shed (egress_orders_shed_total's `action`): a new order, an amend, a flatten with nothing to do. */
export type ShedAction = 'place' | 'amend' | 'flatten'

const READ_BACK_CHECKS = ['unrecordable', 'other_order'] as const

export class GatewayMetrics {
  readonly registry = new MetricsRegistry({ seriesMax: 200 })
  readonly ackLatency: Histogram
  readonly httpRequests: Counter
  readonly httpRejects: Counter
  /** Count through countShed: its `action` is a ShedAction, its `scope` a ShedScope or a kernel load bound. */
  readonly shed: Counter
  readonly sseSubscribers: Gauge
  readonly sseDisconnects: Counter
  private readonly timings: OrderTimings
  private readonly fsyncLatency: Histogram
  private readonly batchSize: Histogram
  private readonly orderRejects: Counter
  private readonly venueRejects: Counter
  private readonly unknownDwell: Histogram
  private readonly reconciles: Counter
  private readonly unknownSince = new Map<string, number>()
  /** The order the previous event moved to Unknown, if it did: a blocked place right after it is no reject. */
  private unknownJustBefore: string | null = null
  private readonly trackedOrdersMax: number
  private readonly unsubscribes: (() => void)[] = []

  constructor(options: GatewayMetricsOptions = {}) {
    this.trackedOrdersMax = options.trackedOrdersMax ?? 100_000
    const r = this.registry
    const latency = (name: string, help: string, labelNames: string[] = []): Histogram => r.histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS_SEC })
    this.ackLatency = latency('egress_order_ack_latency_seconds', 'POST /v1/orders: request received to durable answer (the ACK boundary), by outcome: accepted, rejected (a new order decided), replayed (a repeat of a key, answered as first decided), conflict, error.', ['outcome'])
    this.timings = new OrderTimings(
      {
        acceptToSent: latency('egress_order_accept_to_sent_seconds', 'Order accepted to its first send_requested record.'),
        sentToAck: latency('egress_order_sent_to_venue_ack_seconds', 'First send_requested to the venue acknowledging the order; a send held before the venue (never called: a kill switch, a mode change, the HA send gate) does not start it, the next send does.'),
        acceptToFill: r.histogram({ name: 'egress_order_accept_to_first_fill_seconds', help: 'Order accepted to its first fill (a resting order: up to an hour in buckets).', buckets: FIRST_FILL_BUCKETS_SEC }),
      },
      { trackedOrdersMax: this.trackedOrdersMax, lateFillWindowMs: options.lateFillWindowMs ?? 60_000 },
    )
    this.fsyncLatency = latency('egress_wal_fsync_seconds', "Duration of each log fdatasync: a group-commit batch's, and a segment's last part's before a roll.")
    this.batchSize = r.histogram({ name: 'egress_wal_batch_records', help: 'Records per group-commit batch.', buckets: BATCH_SIZE_BUCKETS })
    this.orderRejects = r.counter({
      name: 'egress_order_rejects_total',
      help: 'Orders rejected, by reason code: by the kernel at intake, or at send (a place the I-100 gate blocked), and by the venue (VENUE_REJECTED: each refusal of a place; its venue reject code is in egress_venue_rejects_total).',
      labelNames: ['reason'],
    })
    this.venueRejects = r.counter({
      name: 'egress_venue_rejects_total',
      help: "Refusals by the venue, by what it refused (action: place, cancel, amend) and the venue reject code its reason text gives (code; README, Venue reject codes).",
      labelNames: ['action', 'code'],
    })
    this.httpRejects = r.counter({ name: 'egress_http_errors_total', help: 'Requests answered with an error, by error code.', labelNames: ['code'] })
    this.httpRequests = r.counter({ name: 'egress_http_requests_total', help: 'HTTP requests by route and status class.', labelNames: ['route', 'status'] })
    this.shed = r.counter({
      name: 'egress_orders_shed_total',
      help: 'Order actions shed with 429 before anything was recorded, by action (place: a new order; amend; flatten: one with nothing to cancel or close) and the bound that was hit (account, bot, symbol, global; for place also kernel_lane, kernel_account).',
      labelNames: ['action', 'scope'],
    })
    this.unknownDwell = r.histogram({ name: 'egress_order_unknown_dwell_seconds', help: 'Time orders spent Unknown before converging, from when each went Unknown (one Unknown when the metrics started, after a restart or a takeover, included).', buckets: DWELL_BUCKETS_SEC })
    this.reconciles = r.counter({ name: 'egress_reconcile_outcomes_total', help: 'Reconciliation results, by resulting state and reason; an answer that settles nothing yet (asked again later, the order unchanged) is state="deferred", reason="RECONCILE_DEFERRED", or reason="FILL_OVERFILL" when the venue reports the order filled past its quantity.', labelNames: ['state', 'reason'] })
    this.sseSubscribers = r.gauge({ name: 'egress_sse_subscribers', help: 'Open SSE streams, by stream kind.', labelNames: ['stream'] })
    this.sseDisconnects = r.counter({ name: 'egress_sse_disconnects_total', help: 'SSE streams ended by the server or client, by reason.', labelNames: ['reason'] })
  }

  /** One order action shed with 429 (egress_orders_shed_total). */
  countShed(action: ShedAction, scope: ShedScope | 'kernel_lane' | 'kernel_account'): void {
    this.shed.inc(1, { action, scope })
  }

  /**
   * Starts following the gateway's log and state; sampled gauges are read at scrape time. A standby's gateway applies
   * the leader's records: the order-path counters and histograms fed from them (rejects, venue rejects, reconcile
   * outcomes, Unknown dwell, order latencies) are the leader's decisions, which the leader counts, so a standby leaves
   * them at zero — summed over a pair they would count each decision twice. Its log metrics (batch size, fsync) are
   * its own replica log's. A takeover starts a leader gateway and a new service around it (src/runtime/ha/leading.ts),
   * whose metrics count that leader's decisions from then on.
   */
  attach(gateway: Gateway, extra: { inFlight: () => number }): void {
    const { engine } = gateway
    if (gateway.role === 'leader') {
      this.trackUnknownNow(gateway)
      this.unsubscribes.push(
        engine.onDurable((events) => {
          // A loop, not events.map(…): no array and callback per batch.
          for (const applied of events) this.onEvent(applied.event)
        }),
      )
    }
    // Every fdatasync since the last batch: the batch's own (the last one), and the sync of a segment's last part before
    // a roll (wal/segment-writer.ts syncPartNow, on the event loop), which only the stats' running totals hold.
    const walStats = engine.wal.stats
    let fsyncsTold = walStats.fsyncCount
    let fsyncMsTold = walStats.fsyncMsTotal
    this.unsubscribes.push(
      engine.wal.subscribe((batch) => {
        this.batchSize.observe(batch.lastLsn - batch.firstLsn + 1)
        const fsyncs = walStats.fsyncCount - fsyncsTold
        if (fsyncs > 0) {
          this.fsyncLatency.observe(walStats.lastFsyncMs / 1000)
          // Rolls' syncs: exact for the one a batch normally crosses, their mean for a batch spanning several segments.
          if (fsyncs > 1) {
            const rollMs = Math.max(0, walStats.fsyncMsTotal - fsyncMsTold - walStats.lastFsyncMs) / (fsyncs - 1)
            for (let roll = 1; roll < fsyncs; roll++) this.fsyncLatency.observe(rollMs / 1000)
          }
        }
        fsyncsTold = walStats.fsyncCount
        fsyncMsTold = walStats.fsyncMsTotal
      }),
    )
    const r = this.registry
    const lanes = r.gauge({ name: 'egress_lane_depth', help: 'Orders with work waiting, by lane.', labelNames: ['lane'] })
    const unknown = r.gauge({ name: 'egress_orders_unknown', help: 'Orders whose venue outcome is Unknown now.' })
    const unknownOldest = r.gauge({ name: 'egress_orders_unknown_oldest_seconds', help: 'Dwell of the longest-Unknown order now.' })
    const lastLsn = r.gauge({ name: 'egress_wal_last_lsn', help: 'Last durable LSN.' })
    const queue = r.gauge({ name: 'egress_wal_queue_records', help: 'Records waiting for the next group commit.' })
    // Read when the log was opened (the only time a node cuts a torn tail), not per scrape: runtime/quarantine-status.ts.
    const quarantine = gateway.quarantine
    if (quarantine !== null) {
      const help = "in the data dir's quarantine/ when the log was opened: bytes cut from torn tails, kept (they may hold acknowledged records). Review them and archive them elsewhere; egress never deletes them."
      r.gauge({ name: 'egress_wal_quarantine_files', help: `Files ${help}` }).set(quarantine.files)
      r.gauge({ name: 'egress_wal_quarantine_bytes', help: `Bytes of the files ${help}` }).set(quarantine.bytes)
    }
    const inFlight = r.gauge({ name: 'egress_http_orders_in_flight', help: 'New orders being decided or waiting for the log.' })
    const ready = r.gauge({ name: 'egress_ready', help: '1 when intake is open.' })
    const reportsHeld = r.gauge({ name: 'egress_venue_reports_held', help: "Venue reports waiting for room in the log's queue now." })
    const keysHeld = r.gauge({ name: 'egress_idempotency_keys_held', help: 'Idempotency keys the kernel holds now (src/kernel/key-window.ts): at egress_idempotency_keys_held_max new orders are refused OVERLOADED.' })
    const keysHeldMax = r.gauge({ name: 'egress_idempotency_keys_held_max', help: 'The cap on idempotency keys held (kernel.idempotencyKeysHeldMax); absent without one.' })
    const reports = r.counter({
      name: 'egress_venue_reports_total',
      help: "Venue reports by what the intake did besides recording them at once: held for the log's room, resubmitted, dropped (holding queue full, or at stop: the order is read back), orphan_repeat (recorded without a second REPORT_ORPHANED).",
      labelNames: ['outcome'],
    })
    const reportsTold = { held: 0, resubmitted: 0, dropped: 0, orphan_repeat: 0 }
    const answersHeld = r.counter({ name: 'egress_venue_answers_held_total', help: "Venue answers (place, cancel, amend) the log's queue had no room for when they came: held and recorded once it had (src/runtime/held-answers.ts)." })
    let answersHeldTold = 0
    const readBacksRefused = r.counter({
      name: 'egress_read_backs_refused_total',
      help: 'Venue read-back answers refused before the kernel, by check: unrecordable (an amount or id the log could not hold), other_order (about another order than the one asked). The order is asked again after a back-off; growing, the venue answers something egress cannot take (src/runtime/read-back-check.ts).',
      labelNames: ['check'],
    })
    const readBacksRefusedTold = { unrecordable: 0, other_order: 0 }
    // Each node counts what the cap retired from the state it holds (a standby applies the same rule to the same log).
    const retiredEarly = r.counter({
      name: 'egress_orders_retired_early_total',
      help: 'Ended orders the hard cap (kernel.terminalOrdersHeldMax) retired from the hot state within terminalOrderRetireAfterMs: a late fill for one is an orphan. Increasing: the cap, not the grace, decides how long ended orders stay.',
    })
    let retiredEarlyTold = retiredEarlyCount(engine.state)
    followFillGaps(r, () => gateway.readBacks.fillGaps)
    followSendPacing(r, gateway.executor.pacing.stats)
    const shadow = engine.shadow === null ? null : r.counter({ name: 'egress_ha_shadow_decisions_total', help: 'Standby shadow mode: leader commands decided again here, by outcome (match, mismatch).', labelNames: ['outcome'] })
    r.beforeRender(() => {
      if (shadow !== null && engine.shadow !== null) {
        const stats = engine.shadow.stats
        shadow.advanceTo(stats.matches, { outcome: 'match' })
        shadow.advanceTo(stats.mismatches, { outcome: 'mismatch' })
      }
      const stats = gateway.reportIntake.stats
      reportsHeld.set(stats.held)
      const now = { held: stats.heldTotal, resubmitted: stats.resubmitted, dropped: stats.dropped, orphan_repeat: stats.orphanRepeats }
      for (const outcome of Object.keys(now) as (keyof typeof now)[]) {
        reports.inc(now[outcome] - reportsTold[outcome], { outcome })
        reportsTold[outcome] = now[outcome]
      }
      const refusedNow = gateway.executor.stats.readBacksRefused
      for (const check of READ_BACK_CHECKS) {
        readBacksRefused.inc(refusedNow[check] - readBacksRefusedTold[check], { check })
        readBacksRefusedTold[check] = refusedNow[check]
      }
      const answersHeldNow = gateway.executor.stats.answersHeld
      answersHeld.inc(answersHeldNow - answersHeldTold)
      answersHeldTold = answersHeldNow
      // A restored state counts from 0 again: the counter only takes what was retired since it was last read.
      const retiredEarlyNow = retiredEarlyCount(engine.state)
      if (retiredEarlyNow > retiredEarlyTold) retiredEarly.inc(retiredEarlyNow - retiredEarlyTold)
      retiredEarlyTold = retiredEarlyNow
      queueDepths(engine.state).forEach((depth, lane) => lanes.set(depth, { lane: String(lane) }))
      const open = unknownOrders(engine.state, gateway.clock.nowMs())
      unknown.set(open.length)
      unknownOldest.set(open.reduce((max, item) => Math.max(max, item.dwellMs), 0) / 1000)
      lastLsn.set(engine.wal.lastLsn)
      keysHeld.set(engine.state.idempotency.size)
      const keysCap = engine.state.config?.params.idempotencyKeysHeldMax
      if (keysCap !== undefined) keysHeldMax.set(keysCap)
      queue.set(engine.wal.queueDepth.records)
      inFlight.set(extra.inFlight())
      ready.set(gateway.ready ? 1 : 0)
    })
  }

  /**
   * The JWKS key set, sampled at scrape time: failed reloads by code (an alert on any increase), whether the set is
   * stale (tokens by its keys refused), and the age of its last good read. Nothing is registered without a JWKS file.
   */
  followJwks(status: () => JwksStatus | null): void {
    if (status() === null) return
    const r = this.registry
    const failures = r.counter({ name: 'egress_jwks_reload_failures_total', help: 'Failed reloads of the JWKS file, by code (JWKS_UNREADABLE, JWKS_INVALID).', labelNames: ['code'] })
    const stale = r.gauge({ name: 'egress_jwks_stale', help: '1 while the JWKS key set is past its grace (jwksStaleMaxMs): tokens by its keys get 401 jwks_stale.' })
    const age = r.gauge({ name: 'egress_jwks_last_good_read_age_seconds', help: 'Time since the JWKS file was last read and found good.' })
    const counted: Record<JwksErrorCode, number> = { JWKS_UNREADABLE: 0, JWKS_INVALID: 0 }
    r.beforeRender(() => {
      const now = status()
      if (now === null) return
      for (const code of Object.keys(counted) as JwksErrorCode[]) {
        failures.inc(now.reloadFailures[code] - counted[code], { code })
        counted[code] = now.reloadFailures[code]
      }
      stale.set(now.stale ? 1 : 0)
      age.set(now.lastGoodAgeMs / 1000)
    })
  }

  detach(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
  }

  render(): string {
    return this.registry.render()
  }

  /** Takes durable events in log order: attach() feeds it from the engine; a spec may feed it directly. */
  observe(events: readonly DomainEvent[]): void {
    for (const event of events) this.onEvent(event)
  }

  private onEvent(event: DomainEvent): void {
    this.timings.onEvent(event)
    const unknownJustBefore = this.unknownJustBefore
    this.unknownJustBefore = event.type === 'order.unknown' ? event.orderId : null
    const venueReject = venueRejectOf(event)
    if (venueReject !== null) this.venueRejects.inc(1, { action: venueReject.action, code: venueReject.code })
    switch (event.type) {
      case 'order.rejected':
        this.orderRejects.inc(1, { reason: event.reason })
        return
      case 'order.send_acked':
      case 'order.fill':
        this.leaveUnknown(event.orderId, event.atMs)
        return
      case 'order.unknown':
        if (!this.unknownSince.has(event.orderId) && this.unknownSince.size < this.trackedOrdersMax) this.unknownSince.set(event.orderId, event.atMs)
        return
      case 'order.send_blocked':
        // A blocked place of an order never sent is final: the order is Rejected (kernel/send.ts). One sent before went
        // Unknown in the record just before (same decision) and is read back; a blocked cancel or amend leaves it live.
        if (event.action === 'place' && unknownJustBefore !== event.orderId) this.orderRejects.inc(1, { reason: event.reason })
        return
      case 'order.reconciled':
        this.reconciles.inc(1, { state: event.to, reason: event.reason })
        this.leaveUnknown(event.orderId, event.atMs)
        return
      case 'order.reconcile_deferred':
        // The venue's answer settled nothing yet (an amend too recent to judge, a state the order cannot take): the
        // order stays as it is and is asked about again at retryAtMs. It is an outcome of reconciliation all the same.
        this.reconciles.inc(1, RECONCILE_DEFERRED_LABELS)
        return
      case 'order.overfill_recheck':
        // The venue's answer is an overfill (overfill-recheck.ts): nothing booked, the order stays Unknown and is
        // asked again at retryAtMs. Deferred like the above, and told apart by its reason.
        this.reconciles.inc(1, OVERFILL_RECHECK_LABELS)
        return
      case 'order.venue_rejected':
        this.orderRejects.inc(1, VENUE_REJECTED_LABELS)
        this.leaveUnknown(event.orderId, event.atMs)
        return
      case 'order.canceled':
      case 'order.expired':
      case 'order.cancel_acked':
        this.leaveUnknown(event.orderId, event.atMs)
        return
    }
  }

  /**
   * The orders Unknown when the metrics attach (after a restart or a takeover) are tracked from when they went Unknown
   * (the order's unknownSinceMs, which the log and snapshots keep): with the tracking empty at attach, their way out
   * gave no dwell sample, and the longest dwells, the ones across a restart, were never measured.
   */
  private trackUnknownNow(gateway: Gateway): void {
    const nowMs = gateway.clock.nowMs()
    for (const { orderId, dwellMs } of unknownOrders(gateway.engine.state, nowMs)) {
      if (this.unknownSince.size >= this.trackedOrdersMax) return
      if (!this.unknownSince.has(orderId)) this.unknownSince.set(orderId, nowMs - dwellMs)
    }
  }

  private leaveUnknown(orderId: string, atMs: number): void {
    const since = this.unknownSince.get(orderId)
    if (since === undefined) return
    this.unknownSince.delete(orderId)
    this.unknownDwell.observe((atMs - since) / 1000)
  }
}
