/**
 * Commands: everything the runtime asks the kernel to decide. A command carries every fact the decision depends on
 * (time, the principal, market snapshots, venue answers, runtime health), so decide() needs nothing else and its
 * events can be replayed without the outside world. The operator's commands are in admin-commands.ts, venue health's
 * in venue-health-commands.ts; KernelCommand here is the union of them all.
 */

import type { Principal } from '../domain/accounts.ts'
import type { Units } from '../domain/decimal.ts'
import type { GateAction, GateFacts } from '../domain/gate.ts'
import type { MarketSnapshot } from '../domain/market.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import type { ReasonCode } from '../domain/reasons.ts'
import type { ExecutionReport, PlaceAck, VenueOrder, VenueOutcome, VenueTrade } from '../venues/adapter.ts'
import type { FlattenNotClosed } from './state.ts'
import type { ConfigureCommand, FundCommand, KillSwitchCommand, SetModeCommand } from './admin-commands.ts'
import type { VenueHealthCommand, VenueOverrideCommand, VenueOverrideLapseCommand } from './venue-health-commands.ts'

/** Live prerequisites the runtime observed (DESIGN §6); checked by the mode guard when the gateway is live. */
export interface LiveReadiness {
  credentialPresent: boolean
  environmentLive: boolean
  haLeader: boolean
}

export interface PlaceCommand {
  kind: 'place'
  nowMs: number
  principal: Principal
  /** The Idempotency-Key header, if any; otherwise the body's client_order_id is the key. */
  idempotencyKey: string | null
  /** The request body as parsed JSON, unvalidated: the syntax guard validates it. */
  body: unknown
  /** The reference price of the body's instrument as the runtime last observed it; null if none. */
  market: MarketSnapshot | null
  live: LiveReadiness
  /** Digest of the config the runtime is running; recorded in the decision record and compared in live mode. */
  configDigest: string
  buildCommit: string
  /**
   * The W3C trace context of the HTTP request (version 00: egress's span in the caller's trace, or in one egress
   * started), recorded on the records the command writes. Absent for commands no request caused, and in command
   * records written before the field.
   */
  traceparent?: string
}

/**
 * Place an order list (src/kernel/order-lists/): the list body (unvalidated) with two ordinary order bodies, each
 * decided as a PlaceCommand with these facts (both legs are on one instrument, so one market snapshot serves). Without
 * an Idempotency-Key header the body's client_list_id is the list's key.
 */
export interface PlaceListCommand extends Omit<PlaceCommand, 'kind'> {
  kind: 'place_list'
}

export interface CancelCommand {
  kind: 'cancel'
  nowMs: number
  principal: Principal
  orderId: string
  reason: ReasonCode
  /** As PlaceCommand's: recorded on the cancel's record (order.cancel_requested, or order.canceled for an unsent order). */
  traceparent?: string
  /**
   * The deciding build (src/cli/build-info.ts), recorded with the state's config digest on the records the command
   * writes (kernel/attribution.ts, §9). Absent in command records of leaders before it: their records have none.
   */
  buildCommit?: string
}

/**
 * Amend (replace) an open order: a new total quantity and/or a new limit price (null: unchanged). It runs the guards
 * that apply to a change of an existing order in the §5 order and, if they pass, waits in Lane2 to be sent.
 */
export interface AmendCommand {
  kind: 'amend'
  nowMs: number
  principal: Principal
  orderId: string
  qty: Units | null
  price: Units | null
  /** The reference price of the order's instrument as the runtime last observed it; null if none. */
  market: MarketSnapshot | null
  live: LiveReadiness
  configDigest: string
  buildCommit: string
  /** As PlaceCommand's: recorded on order.amend_requested or order.amend_rejected. */
  traceparent?: string
}

export interface FlattenCommand {
  kind: 'flatten'
  nowMs: number
  principal: Principal
  accountId: string
  /** Unique per flatten request; close orders derive their ids from it, so a repeated flatten is idempotent. */
  flattenId: string
  /** Reference prices by instrument key (`venue:symbol`), to price the closing orders. */
  markets: Record<string, MarketSnapshot>
  /**
   * The build deciding, for the closing orders' decision records (as a place's). Absent from commands recorded before
   * it was (an older leader's command record): their closes were recorded with an empty build, and are decided so again.
   */
  buildCommit?: string
  /**
   * As PlaceCommand's: recorded on the records the flatten writes for orders (each close's order.accepted, each cancel's
   * order.cancel_requested or order.canceled). Absent in command records written before it, whose records had none.
   */
  traceparent?: string
  /**
   * One decision cancels at most this many orders (flatten.ts), so its records fit the log's queue; with more, the
   * flatten records those cancels only and the command is submitted again. Absent (command records of older leaders):
   * all of it in one decision, as before.
   */
  ordersMax?: number
}

/** The executor picked a work item (see nextWork) and asks to send it; the kernel runs the I-100 gate. */
export interface SendCommand {
  kind: 'send'
  nowMs: number
  orderId: string
  action: GateAction
  facts: GateFacts
  /**
   * The reference price of the order's instrument as the runtime observes it for this send (null: none). A place or
   * amend faces data health and the price band again with it (§15 check 4, send.ts). Absent only in the command
   * records of leaders before the field, which are decided as they were: without that check.
   */
  market?: MarketSnapshot | null
}

export interface PlaceResultCommand {
  kind: 'place_result'
  nowMs: number
  orderId: string
  outcome: VenueOutcome<PlaceAck>
}

export interface CancelResultCommand {
  kind: 'cancel_result'
  nowMs: number
  orderId: string
  outcome: VenueOutcome<{ accepted: true }>
}

export interface AmendResultCommand {
  kind: 'amend_result'
  nowMs: number
  orderId: string
  outcome: VenueOutcome<{ accepted: true }>
}

export interface VenueReportCommand {
  kind: 'venue_report'
  nowMs: number
  report: ExecutionReport
  /**
   * The report is an orphan (isOrphanReport) whose REPORT_ORPHANED alert was raised already (the runtime's bounded
   * memory of orphans, src/runtime/orphan-alerts.ts): it is recorded, with no second alert. Absent: alert as usual.
   */
  orphanRepeat?: true
}

export interface ReconcileResultCommand {
  kind: 'reconcile_result'
  nowMs: number
  /**
   * When the venue was asked (the queries were sent): the venue read its book at or after this, so the venue's view is
   * as old as this, not as `nowMs`, when the answer came back. Absent (commands recorded before the field): `nowMs`.
   */
  askedAtMs?: number
  orderId: string
  /** The venue's answer to "status of this client order id": the order, or null for "not found". */
  venueOrder: VenueOrder | null
  /** The venue's trades for this client order id. */
  trades: VenueTrade[]
}

export interface ResendCommand {
  kind: 'resend'
  nowMs: number
  principal: Principal
  orderId: string
  /**
   * The reference price of the order's instrument as the runtime last observed it; null if none. The resend is
   * band- and health-checked at it (resend.ts). Command records written before the field decode it as null.
   */
  market: MarketSnapshot | null
  /** As CancelCommand's: on order.resend_requested or order.resend_refused. */
  buildCommit?: string
}

/** As CancelCommand's buildCommit: the deciding build, on the records the command writes (kernel/attribution.ts). */
export interface DecidingBuild {
  buildCommit?: string
}

/**
 * The runtime saw order `orderId`'s time-to-live pass (src/runtime/ttl-expiries.ts): the kernel ends it as its
 * expiry asks (src/kernel/ttl.ts) if the order's expiresAtMs has passed at nowMs and nothing ended it or asked for its
 * cancel meanwhile; otherwise nothing.
 */
export interface TtlExpireCommand {
  kind: 'ttl_expire'
  nowMs: number
  orderId: string
  /** As CancelCommand's: on the records that end the order. */
  buildCommit?: string
}

/**
 * Revoke bearer tokens (src/domain/revocations.ts): one by its `jti`, or every token of `sub` issued before
 * issuedBeforeMs; refused from the record on, until untilMs. Admin only.
 */
export type RevokeTokenCommand =
  | ({ kind: 'revoke_token'; target: 'token'; nowMs: number; principal: Principal; jti: string; untilMs: number; note: string } & DecidingBuild)
  | ({ kind: 'revoke_token'; target: 'subject'; nowMs: number; principal: Principal; sub: string; issuedBeforeMs: number; untilMs: number; note: string } & DecidingBuild)

/** A revocation as a caller asks for it: the command without its kind and time (Gateway.revokeToken adds them). */
export type RevokeTokenRequest = RevokeTokenCommand extends infer T ? (T extends unknown ? Omit<T, 'kind' | 'nowMs'> : never) : never

/** At every start, after replay: every call that was in flight when the process stopped has an unknown outcome. */
export interface BootstrapCommand {
  kind: 'bootstrap'
  nowMs: number
}

/** At every start, after bootstrap: every Unknown order becomes a suspect the start resends if proven absent (bootstrap-suspects.ts). */
export interface MarkSuspectsCommand {
  kind: 'mark_suspects'
  nowMs: number
}

/** At every start, after its resends: the marks left are cleared. */
export interface ClearSuspectsCommand {
  kind: 'clear_suspects'
  nowMs: number
}

/**
 * At a start, before the executor may pick anything: every place still waiting in a lane whose acceptance is older than
 * ageMsMax (the start's resend window) ends, STALE_AT_START (stale-at-start.ts), instead of going out late.
 */
export interface ExpireStaleCommand {
  kind: 'expire_stale'
  nowMs: number
  /** Who asks (the start's principal): recorded on the cancel of an order sent before (order.cancel_requested). */
  principal: Principal
  ageMsMax: number
  /**
   * At most this many orders are ended (the first by order id), so that the decision's records fit the log's queue;
   * the start asks again until one ends none. Absent (the command records of starts before parts): all of them.
   */
  ordersMax?: number
  /** As CancelCommand's: on the records that end the orders. */
  buildCommit?: string
}

/**
 * At a start: orders a venue lists as open under egress's client ids, which the start found egress does not hold
 * (unheld-venue-orders.ts). Each is raised as an alert; nothing else changes.
 */
export interface UnheldVenueOrdersCommand {
  kind: 'unheld_venue_orders'
  nowMs: number
  venue: string
  /** At most UNHELD_ALERTS_MAX, each alerted if the state still holds no order by its client id. */
  orders: VenueOrder[]
  /** Further listed orders the start found unheld, not named (alerted as a count). */
  moreCount: number
}

export type KernelCommand =
  | PlaceCommand
  | PlaceListCommand
  | CancelCommand
  | ConfigureCommand
  | SetModeCommand
  | KillSwitchCommand
  | FundCommand
  | FlattenCommand
  | SendCommand
  | PlaceResultCommand
  | CancelResultCommand
  | AmendCommand
  | AmendResultCommand
  | VenueReportCommand
  | ReconcileResultCommand
  | ResendCommand
  | BootstrapCommand
  | MarkSuspectsCommand
  | ClearSuspectsCommand
  | ExpireStaleCommand
  | UnheldVenueOrdersCommand
  | VenueHealthCommand
  | VenueOverrideCommand
  | VenueOverrideLapseCommand
  | RevokeTokenCommand
  | TtlExpireCommand

/** What the caller tells the client. Repeats of an idempotent request carry `duplicate: true` and the first answer. */
export type Reply =
  | { kind: 'accepted'; orderId: string; duplicate: boolean }
  | { kind: 'rejected'; orderId: string; reason: ReasonCode; guard: string; duplicate: boolean }
  | { kind: 'conflict'; orderId: string; reason: 'IDEMPOTENCY_CONFLICT' }
  /** An amend passed its guards (or repeats the one in progress: duplicate). `rejected` answers a guard failure. */
  | { kind: 'amend_accepted'; orderId: string; amendId: number; duplicate: boolean }
  /** An order list: both legs accepted (or a repeat of the list: duplicate), or the first leg that failed its guards. */
  | { kind: 'list_accepted'; listId: string; orderIds: string[]; duplicate: boolean }
  | { kind: 'list_rejected'; listId: string; leg: number; orderId: string; reason: ReasonCode; guard: string; duplicate: boolean }
  /**
   * A list whose key the kernel no longer holds, but one of whose leg keys names an order accepted with that leg's body:
   * the list retired from memory (its first answer is in the log: the transport reads it there) or another order took
   * the key with that body (a conflict). `detail` says both, for when the log cannot tell.
   */
  | { kind: 'list_leg_repeat'; listId: string; leg: number; orderId: string; bodyDigest: string; detail: string }
  /** A repeat of a flatten whose first answer is held (flatten-held.ts): that answer's lsn and holdings not closed. */
  | { kind: 'flatten_repeat'; lsn: number; notClosed: readonly FlattenNotClosed[] }
  | { kind: 'done' }
  | { kind: 'refused'; reason: ReasonCode; detail: string }

export interface Decision {
  events: DomainEvent[]
  reply: Reply
}

/** The reply of a decision that is only done: one shared frozen object, not one per send, venue answer and report. */
export const DONE_REPLY: Reply = Object.freeze({ kind: 'done' })
