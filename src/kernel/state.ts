/**
 * The kernel state: every projection the kernel keeps, built only by applying events. decide() reads it and never
 * writes it; apply() writes a copy (or, via applyInPlace, the runtime's own instance).
 */

import type { Units } from '../domain/decimal.ts'
import type { Instrument } from '../domain/instruments.ts'
import type { Policy } from '../domain/accounts.ts'
import type { KernelConfig } from '../domain/kernel-config.ts'
import { DEFAULT_MODE, type Mode, type TradingSwitch } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import type { ReasonCode } from '../domain/reasons.ts'
import { GenerationalMap } from '../domain/generational-map.ts'
import type { VenueHealthEntry } from '../domain/venue-health.ts'
import { cloneRevocations, emptyRevocations, type Revocations } from '../domain/revocations.ts'
import { cloneOrderLists, emptyOrderLists, type OrderLists } from '../domain/order-lists.ts'

export interface AccountLedger {
  /** Holdings per asset: cash in quote assets, positions in base assets. */
  balances: Map<string, Units>
  /** Amounts held by open orders per asset; never negative, never above what open orders reserved. */
  reserved: Map<string, Units>
}

export type WorkKind = 'place' | 'cancel' | 'amend' | 'reconcile'

/** The venue calls that occupy an instrument's slot. */
export type CallAction = 'place' | 'cancel' | 'amend'

export interface IdempotencyEntry {
  bodyDigest: string
  orderId: string
  outcome: 'accepted' | 'rejected'
  reason: ReasonCode | null
  guard: string | null
  /** The atMs of the decision that took the key: its window runs from here (key-window.ts). */
  decidedAtMs: number
}

/** A flatten's first answer (flatten-held.ts): what a repeat of it answers. */
export interface HeldFlatten {
  /** The last record its decision wrote: the answer's lsn. */
  lsn: number
  /** The holdings it could not close, or not whole (flatten-uncovered.ts, flatten-close-sizes.ts), by asset. */
  notClosed: readonly FlattenNotClosed[]
  /** Its record's atMs: the key window runs from here. */
  decidedAtMs: number
}

/**
 * One account's kill switch in force (account.switch_changed; account-switch.ts): the auto-stop's order_rate breaker
 * with scope `account` engaged it, or an operator (who may move it to the other switch); an operator's RESUME of the
 * account, or a global RESUME, lifts it.
 */
export interface AccountSwitch {
  switch: Exclude<TradingSwitch, 'normal'>
  /**
   * Who engaged it (or last moved it), when, and its note (the breaker's: its figures and threshold; an operator's own):
   * what the account's read shows.
   */
  principalId: string
  atMs: number
  note: string
}

/**
 * A holding a flatten left open, or the part of it left (the answer's not_closed). `reason` says why: absent, no
 * configured instrument trades the asset (INSTRUMENT_UNKNOWN: the only reason recorded before payload version 12); else
 * the instrument's size rule what is left misses (QTY_BELOW_MIN, NOTIONAL_BELOW_MIN, QTY_ABOVE_MAX), FLATTEN_CLOSES_MAX,
 * OVERLOADED (closes past the keys a full index lets flatten take: flatten-keys.ts) or FLATTEN_NO_PRICE. A holding left
 * for more than one reason is named once per reason (flatten.ts closeEvents).
 */
export interface FlattenNotClosed {
  asset: string
  qty: Units
  reason?: ReasonCode
}

export interface InFlightCall {
  orderId: string
  action: CallAction
}

export interface KernelCounters {
  eventsApplied: number
  duplicateReportsDropped: number
  transitionsRefused: number
  alertsRaised: number
}

export interface KernelState {
  /** LSN of the last applied event (0 before any). */
  lastLsn: number
  config: KernelConfig | null
  /**
   * The retirement rule the log adopted (kernel.retire_rule_adopted; src/kernel/retention.ts), null before any: a log
   * written before the record existed replays by the rule it was decided with.
   */
  retireRule: number | null
  /**
   * The hold rule the log adopted (kernel.hold_rule_adopted; src/kernel/reservations.ts HOLD_RULE_SYNTHETIC), null
   * before any: a synthetic fill applied before the record holds nothing for its true-up, as the builds before decided.
   */
  holdRule: number | null
  instruments: Map<string, Instrument>
  policies: Map<string, Policy>
  mode: Mode
  tradingSwitch: TradingSwitch
  accounts: Map<string, AccountLedger>
  /** The orders the kernel holds: every open one and the newest terminal ones (see retention.ts). */
  orders: Map<string, Order>
  /**
   * Terminal orders still in `orders` → the atMs of the event that ended them, oldest ending first; beyond the bound
   * the oldest idle ones past the retire grace are retired (retention.ts).
   */
  terminalOrderIds: Map<string, number>
  /** `${accountId} ${idempotencyKey}` → the first outcome (a projection, so it survives restarts by replay). */
  idempotency: Map<string, IdempotencyEntry>
  /** Per lane, the orders with work due, in FIFO order (Map keeps insertion order). */
  queues: [Map<string, WorkKind>, Map<string, WorkKind>, Map<string, WorkKind>, Map<string, WorkKind>]
  /** Non-terminal orders per account (policy maxOpenOrders). */
  openOrders: Map<string, number>
  /** Work items waiting in Lane1/Lane2 per account (the per-account admission bound, params.accountQueuedMax). */
  queuedByAccount: Map<string, number>
  /** Venue calls in flight, one at most per order: order id → the call. */
  inFlight: Map<string, InFlightCall>
  /** Calls in flight per venue×symbol (instrument key → count ≥ 1), bounded by twice params.callsPerInstrumentMax (in-flight.ts callsMaxFor). */
  callsByInstrument: Map<string, number>
  counters: KernelCounters
  /**
   * Per venue, the health level last recorded (`venue.health_changed`) and its emergency override (venue-health.ts):
   * check 8 of the I-100 gate reads it. A venue without an entry is OK.
   */
  venueHealth: Map<string, VenueHealthEntry>
  /** The bearer tokens refused before their expiry (src/kernel/revocations.ts): live entries only, bounded. */
  revocations: Revocations
  /** The order lists (OCO, src/kernel/order-lists/): every open one and the newest ended ones, bounded. */
  orderLists: OrderLists
  /** Per account, flatten id → its first answer, oldest first (src/kernel/flatten-held.ts): bounded per account. */
  flattens: Map<string, Map<string, HeldFlatten>>
  /**
   * The accounts stopped on their own (account-switch.ts), account id → its switch: at most one entry per account
   * the kernel accepts orders for (the configured ones), none once lifted.
   */
  accountSwitches: Map<string, AccountSwitch>
}

export function initialState(): KernelState {
  return {
    lastLsn: 0,
    config: null,
    retireRule: null,
    holdRule: null,
    instruments: new Map(),
    policies: new Map(),
    mode: DEFAULT_MODE,
    tradingSwitch: 'normal',
    accounts: new Map(),
    orders: new GenerationalMap(),
    terminalOrderIds: new GenerationalMap(),
    openOrders: new Map(),
    queuedByAccount: new Map(),
    idempotency: new GenerationalMap(),
    queues: [new Map(), new Map(), new Map(), new Map()],
    inFlight: new Map(),
    callsByInstrument: new Map(),
    counters: { eventsApplied: 0, duplicateReportsDropped: 0, transitionsRefused: 0, alertsRaised: 0 },
    venueHealth: new Map(),
    revocations: emptyRevocations(),
    orderLists: emptyOrderLists(),
    flattens: new Map(),
    accountSwitches: new Map(),
  }
}

/** A deep copy: apply() works on one so that callers holding the old state never see it change. */
export function cloneState(state: KernelState): KernelState {
  const accounts = new Map<string, AccountLedger>()
  for (const [id, ledger] of state.accounts) {
    accounts.set(id, { balances: new Map(ledger.balances), reserved: new Map(ledger.reserved) })
  }
  // Each order copied into the same generations (a plain Map would be handed over whole: the same order).
  const orders = GenerationalMap.copyOf(state.orders, copyOrder)
  return {
    ...state,
    instruments: new Map(state.instruments),
    policies: new Map(state.policies),
    accounts,
    orders,
    terminalOrderIds: new GenerationalMap(state.terminalOrderIds),
    openOrders: new Map(state.openOrders),
    queuedByAccount: new Map(state.queuedByAccount),
    idempotency: new GenerationalMap(state.idempotency),
    queues: [new Map(state.queues[0]), new Map(state.queues[1]), new Map(state.queues[2]), new Map(state.queues[3])],
    inFlight: new Map(state.inFlight),
    callsByInstrument: new Map(state.callsByInstrument),
    counters: { ...state.counters },
    venueHealth: new Map([...state.venueHealth].map(([venue, entry]) => [venue, { ...entry, override: entry.override === null ? null : { ...entry.override } }])),
    // Its own copy: a snapshot encodes the clone across event-loop turns while revocations go on being applied.
    revocations: cloneRevocations(state.revocations),
    orderLists: cloneOrderLists(state.orderLists),
    // The answers are never changed in place: each account's map copied, its entries shared.
    flattens: new Map([...state.flattens].map(([accountId, held]) => [accountId, new Map(held)])),
    // Entries are never changed in place (apply replaces or deletes them): the map copied, its entries shared.
    accountSwitches: new Map(state.accountSwitches),
  }
}

/** An order's copy: its own members copied, and those apply changes in place (reservation, execIds) copied too. */
function copyOrder(order: Order): Order {
  return {
    ...order,
    reservation: { ...order.reservation },
    execIds: order.execIds.copy(),
    clientIdChain: [...order.clientIdChain],
    amend: order.amend === null ? null : { ...order.amend },
  }
}

/**
 * The idempotency index key. Account ids are printable ASCII without spaces (idSchema), so the first space separates
 * the two parts unambiguously; a space (rather than a newline) also keeps the key free of JSON escapes, which makes the
 * snapshot's 400k-key column parse several times faster.
 */
export function idempotencyIndexKey(accountId: string, idempotencyKey: string): string {
  return `${accountId} ${idempotencyKey}`
}

export function availableBalance(state: KernelState, accountId: string, asset: string): Units {
  const ledger = state.accounts.get(accountId)
  if (ledger === undefined) return 0n
  return (ledger.balances.get(asset) ?? 0n) - (ledger.reserved.get(asset) ?? 0n)
}
