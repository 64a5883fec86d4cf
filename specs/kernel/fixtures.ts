/**
 * Test harness for the kernel: a state driven by decide → (encode → decode) → applyInPlace, exactly as the runtime
 * will drive it from the log, so every event produced in these specs also proves the codec round-trips it.
 */

import type { Principal, Policy } from '../../src/domain/accounts.ts'
import { parseDecimal, type Units } from '../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../src/domain/events/index.ts'
import type { GateFacts } from '../../src/domain/gate.ts'
import { defaultKernelConfig, type KernelConfig } from '../../src/domain/kernel-config.ts'
import type { MarketSnapshot } from '../../src/domain/market.ts'
import type { Order } from '../../src/domain/orders.ts'
import {
  applyInPlace,
  decide,
  initialState,
  nextWork,
  type AmendCommand,
  type Decision,
  type KernelCommand,
  type KernelState,
  type PlaceCommand,
} from '../../src/kernel/index.ts'
import type { ExecutionReport, VenueOutcome, PlaceAck } from '../../src/venues/adapter.ts'

export const T0 = 1_700_000_000_000
export const d = parseDecimal

export const ACCOUNT = 'acct-1'

export const trader: Principal = { id: 'alice', roles: ['trader'], accounts: [ACCOUNT], liveAllowed: true }
export const ops: Principal = { id: 'olga', roles: ['ops'], accounts: [], liveAllowed: false }
export const admin: Principal = { id: 'ada', roles: ['admin'], accounts: [], liveAllowed: false }

export function policy(overrides: Partial<Policy> = {}): Policy {
  return {
    accountId: ACCOUNT,
    instruments: ['sim:BTC-USD', 'sim:ETH-USD', 'sim:AAPL'],
    marketOrderInstruments: [],
    maxOrderNotional: d('1000000'),
    maxOpenOrders: 100,
    liveAllowed: true,
    validFromMs: 0,
    validUntilMs: T0 * 2,
    // As this build records every policy (src/runtime/paper.ts): absent is an older build's record, with no check.
    selfTrade: 'reject',
    ...overrides,
  }
}

export function config(overrides: { policies?: Policy[]; params?: Partial<KernelConfig['params']> } = {}): KernelConfig {
  const base = defaultKernelConfig({ policies: overrides.policies ?? [policy()], digest: 'cfg-1' })
  return { ...base, params: { ...base.params, ...overrides.params } }
}

/**
 * `config(overrides)` with instruments that take no IOC: a market order that is not FOK gets no protection price and
 * goes out as a plain market order (src/kernel/intake/sent-order.ts marketProtectionPrice), as every market order did
 * before protection — for the specs of what a plain market order does.
 */
export function plainMarketConfig(overrides: Parameters<typeof config>[0] = {}): KernelConfig {
  const base = config(overrides)
  return { ...base, instruments: base.instruments.map((instrument) => ({ ...instrument, timeInForce: instrument.timeInForce.filter((tif) => tif !== 'IOC') })) }
}

export function market(price = '50000', overrides: Partial<MarketSnapshot> = {}): MarketSnapshot {
  return { referencePrice: d(price), observedAtMs: T0, previousPrice: d(price), ...overrides }
}

export const paperFacts: GateFacts = {
  haLeader: true,
  liveExplicit: true,
  durabilityMode: 'fsync',
  schemaCompatible: true,
  auditVerified: true,
}

export function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  // JSON has no undefined: an override of undefined removes the field.
  const merged: Record<string, unknown> = { account: ACCOUNT, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '50000', client_order_id: 'c1', ...overrides }
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined))
}

export function placeCommand(overrides: Partial<PlaceCommand> = {}): PlaceCommand {
  return {
    kind: 'place',
    nowMs: T0,
    principal: trader,
    idempotencyKey: null,
    body: body(),
    market: market(),
    live: { credentialPresent: true, environmentLive: true, haLeader: true },
    configDigest: 'cfg-1',
    buildCommit: 'test',
    ...overrides,
  }
}

export function report(order: Order, overrides: Partial<ExecutionReport> & Pick<ExecutionReport, 'execId' | 'kind'>): ExecutionReport {
  return {
    venue: 'sim',
    clientOrderId: order.venueClientOrderId,
    venueOrderId: 'v-1',
    account: order.accountId,
    symbol: order.symbol,
    side: order.side,
    cumQty: 0n,
    venueTimeMs: T0,
    ...overrides,
  }
}

export class Harness {
  state: KernelState = initialState()
  log: DomainEvent[] = []
  nowMs = T0

  /** Decides, then applies each event after a round trip through the log codec. */
  run(command: KernelCommand): Decision {
    const decision = decide(this.state, command)
    for (const event of decision.events) {
      const decoded = decodeEvent(encodeEvent(event))
      applyInPlace(this.state, decoded, { lsn: this.state.lastLsn + 1 })
      this.log.push(decoded)
    }
    return decision
  }

  /** Configured with one funded account: 100 000 USD, 2 BTC, 50 AAPL. */
  static funded(options: { config?: KernelConfig } = {}): Harness {
    const harness = new Harness()
    harness.run({ kind: 'configure', nowMs: T0, config: options.config ?? config() })
    for (const [asset, amount] of [['USD', '100000'], ['BTC', '2'], ['AAPL', '50']] as const) {
      harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset, amount: d(amount), reference: 'config' })
    }
    return harness
  }

  place(overrides: Record<string, unknown> = {}, command: Partial<PlaceCommand> = {}): Decision {
    return this.run(placeCommand({ nowMs: this.nowMs, body: body(overrides), ...command }))
  }

  placedId(overrides: Record<string, unknown> = {}, command: Partial<PlaceCommand> = {}): string {
    const decision = this.place(overrides, command)
    if (decision.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(decision.reply)}`)
    return decision.reply.orderId
  }

  order(orderId: string): Order {
    const order = this.state.orders.get(orderId)
    if (order === undefined) throw new Error(`no order ${orderId}`)
    return order
  }

  /** Asks to amend an order to a new qty and/or price (decimal strings; omitted: unchanged). */
  amend(orderId: string, change: { qty?: string; price?: string }, command: Partial<AmendCommand> = {}): Decision {
    return this.run({
      kind: 'amend',
      nowMs: this.nowMs,
      principal: trader,
      orderId,
      qty: change.qty === undefined ? null : d(change.qty),
      price: change.price === undefined ? null : d(change.price),
      market: market(),
      live: { credentialPresent: true, environmentLive: true, haLeader: true },
      configDigest: 'cfg-1',
      buildCommit: 'test',
      ...command,
    })
  }

  amendResult(orderId: string, outcome: VenueOutcome<{ accepted: true }>): Decision {
    return this.run({ kind: 'amend_result', nowMs: this.nowMs, orderId, outcome })
  }

  /** Records `level` for the sim venue, as the runtime's scoring would (src/kernel/venue-health.ts). */
  venueHealth(level: 'OK' | 'DEGRADED' | 'CRITICAL', venue = 'sim'): Decision {
    return this.run({ kind: 'venue_health', nowMs: this.nowMs, venue, level, score: level === 'OK' ? 100 : level === 'DEGRADED' ? 70 : 10, detail: 'from the spec' })
  }

  send(orderId: string, action: 'place' | 'cancel' | 'amend' = 'place', facts: GateFacts = paperFacts): Decision {
    return this.run({ kind: 'send', nowMs: this.nowMs, orderId, action, facts })
  }

  placeResult(orderId: string, outcome: VenueOutcome<PlaceAck>): Decision {
    return this.run({ kind: 'place_result', nowMs: this.nowMs, orderId, outcome })
  }

  cancelResult(orderId: string, outcome: VenueOutcome<{ accepted: true }>): Decision {
    return this.run({ kind: 'cancel_result', nowMs: this.nowMs, orderId, outcome })
  }

  report(r: ExecutionReport): Decision {
    return this.run({ kind: 'venue_report', nowMs: this.nowMs, report: r })
  }

  cancel(orderId: string): Decision {
    return this.run({ kind: 'cancel', nowMs: this.nowMs, principal: trader, orderId, reason: 'USER_CANCEL' })
  }

  /** Accept, send and ack an order: it is AckedOpen at the venue. */
  openOrder(overrides: Record<string, unknown> = {}): string {
    const orderId = this.placedId(overrides)
    this.send(orderId)
    this.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
    return orderId
  }

  next(): ReturnType<typeof nextWork> {
    return nextWork(this.state, { nowMs: this.nowMs })
  }

  reserved(asset: string): Units {
    return this.state.accounts.get(ACCOUNT)?.reserved.get(asset) ?? 0n
  }

  balance(asset: string): Units {
    return this.state.accounts.get(ACCOUNT)?.balances.get(asset) ?? 0n
  }

  eventTypes(decision: Decision): string[] {
    return decision.events.map((event) => event.type)
  }
}

/**
 * An order (the fixture's place body with `overrides`) sent, answered unknown and read back "not found" past the grace:
 * Failed, not at the venue, resendable.
 */
export function failedAbsentOrder(harness: Harness, overrides: Record<string, unknown> = {}): string {
  const orderId = harness.placedId(overrides)
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
  return orderId
}

/**
 * An order sent, answered unknown, read back "not found" (Failed, not at the venue) and resent by an admin: Enqueued,
 * attempt 1, sent before. 1 BTC at 50000 (a buy unless `overrides` say otherwise).
 */
export function resentOrder(harness: Harness, overrides: Record<string, unknown> = {}): string {
  const orderId = failedAbsentOrder(harness, { qty: '1', price: '50000', ...overrides })
  const resend = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: admin, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
  if (resend.reply.kind !== 'done') throw new Error(`expected the resend done, got ${JSON.stringify(resend.reply)}`)
  const order = harness.order(orderId)
  if (order.status !== 'Enqueued' || order.sendAttempts !== 1) throw new Error(`expected Enqueued after 1 send, got ${order.status} after ${order.sendAttempts}`)
  return orderId
}
