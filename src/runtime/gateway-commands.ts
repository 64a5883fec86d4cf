/**
 * The commands a gateway takes from the HTTP layer and the simulation (place, amend, cancel, kill switch, mode, venue
 * override, token revocation, flatten): each turned into a kernel command with the time, the market and the live
 * readiness it is decided on, and answered once its records are durable. Gateway (gateway.ts) extends this with the
 * start, the wiring of its parts and the stop.
 */

import type { Principal } from '../domain/accounts.ts'
import type { Clock } from '../domain/clock.ts'
import type { Units } from '../domain/decimal.ts'
import type { KillSwitchAction, Mode } from '../domain/modes.ts'
import { checkedTraceparent, traceMemberOf } from '../domain/trace-context.ts'
import { flattenActs, heldFlatten, type FlattenCommand, type LiveReadiness, type PlaceCommand, type PlaceListCommand, type Reply, type RevokeTokenCommand, type RevokeTokenRequest, type VenueOverrideCommand, type VenueOverrideRequest } from '../kernel/index.ts'
import { EngineOverloadedError, type Committed, type Engine } from './engine.ts'
import { decideSwitchInParts, decideUntilLast, decisionOrdersMax, lastLsnOf } from './decision-parts.ts'
import type { GatewayOptions } from './gateway-options.ts'
import { MarketFeed } from './market-feed.ts'

/** What a command carries from the HTTP request besides its content: the request's W3C trace context (commands.ts). */
export interface RequestTrace {
  traceparent?: string
}

export interface CommandResult {
  reply: Reply
  /** LSN of the last record the command wrote, or null if it wrote none (a repeat, a refusal). */
  lsn: number | null
}

export abstract class GatewayCommands {
  readonly engine: Engine
  readonly market: MarketFeed
  readonly clock: Clock
  readonly options: GatewayOptions
  /** Flattens decided in parts now, by account and flatten id: a repeat waits for its first (flatten). */
  private readonly flattensUnderWay = new Map<string, Promise<void>>()
  /** Repeats waiting for their flatten (flattensUnderWay): bounded with the log's durability waiters (see flatten). */
  private flattenRepeatsWaiting = 0

  protected constructor(options: GatewayOptions, engine: Engine) {
    this.options = options
    this.clock = options.clock
    this.engine = engine
    this.market = new MarketFeed()
  }

  /** Places an order; resolves with the kernel's reply once its records are durable (the ACK boundary). */
  place(principal: Principal, body: unknown, idempotencyKey: string | null, request: RequestTrace = {}): Promise<CommandResult> {
    return this.runPlace('place', principal, body, body, idempotencyKey, request)
  }

  /**
   * Places an order list (OCO, src/kernel/order-lists/); resolves with the kernel's reply once its records are durable.
   * Both legs are on one instrument (the kernel refuses a list whose legs are not), so the first leg's market serves.
   */
  placeList(principal: Principal, body: unknown, idempotencyKey: string | null, request: RequestTrace = {}): Promise<CommandResult> {
    const orders = typeof body === 'object' && body !== null ? (body as { orders?: unknown }).orders : undefined
    return this.runPlace('place_list', principal, body, Array.isArray(orders) ? orders[0] : undefined, idempotencyKey, request)
  }

  /** A place or a list's place, with the market of the instrument `priced` names (the body itself, or its first leg). */
  private runPlace(kind: 'place' | 'place_list', principal: Principal, body: unknown, priced: unknown, idempotencyKey: string | null, request: RequestTrace): Promise<CommandResult> {
    const fields = typeof priced === 'object' && priced !== null ? (priced as { venue?: unknown; symbol?: unknown }) : {}
    const venue = typeof fields.venue === 'string' ? fields.venue : 'sim'
    const symbol = typeof fields.symbol === 'string' ? fields.symbol : ''
    const command: PlaceCommand | PlaceListCommand = {
      kind,
      nowMs: this.clock.nowMs(),
      principal,
      idempotencyKey,
      body,
      market: this.market.snapshot(venue, symbol),
      live: this.liveReadiness(),
      configDigest: this.options.configDigest,
      buildCommit: this.options.buildCommit,
    }
    // Set here, not spread from traceMemberOf: the same member, last, without an object made for it per order.
    const traceparent = checkedTraceparent(request)
    if (traceparent !== undefined) command.traceparent = traceparent
    return this.run(command)
  }

  /** Amends (replaces) an order: a new total qty and/or limit price (null: unchanged); resolves once durable. */
  amend(principal: Principal, orderId: string, change: { qty: Units | null; price: Units | null }, request: RequestTrace = {}): Promise<CommandResult> {
    const order = this.engine.state.orders.get(orderId)
    return this.run({
      kind: 'amend',
      nowMs: this.clock.nowMs(),
      principal,
      orderId,
      qty: change.qty,
      price: change.price,
      market: order === undefined ? null : this.market.snapshot(order.venue, order.symbol),
      live: this.liveReadiness(),
      configDigest: this.options.configDigest,
      buildCommit: this.options.buildCommit,
      ...traceMemberOf(request),
    })
  }

  /** The live prerequisites the mode guard checks, as this process sees them now (one read of the facts). */
  private liveReadiness(): LiveReadiness {
    const facts = this.options.facts()
    return { credentialPresent: facts.liveExplicit, environmentLive: facts.liveExplicit, haLeader: facts.haLeader }
  }

  cancel(principal: Principal, orderId: string, request: RequestTrace = {}): Promise<CommandResult> {
    return this.run({ kind: 'cancel', nowMs: this.clock.nowMs(), principal, orderId, reason: 'USER_CANCEL', buildCommit: this.options.buildCommit, ...traceMemberOf(request) })
  }

  /**
   * Engages or lifts a kill switch, decided in parts sized to the log's queue (decision-parts.ts): HALT and CANCEL_ONLY
   * take effect with the first, and the waiting work they end follows; RESUME lifts with the last. Without parts, a
   * switch with more waiting work than the queue takes records was refused as overloaded however often it was asked.
   */
  killSwitch(principal: Principal, action: KillSwitchAction, note: string): Promise<CommandResult> {
    return decideSwitchInParts(this.engine, this.clock, { principal, action, note })
  }

  /**
   * Engages, moves or lifts one account's own switch (kernel account-switch.ts), in parts as the gateway's is. HALT or
   * CANCEL_ONLY stops the account by an operator's hand, the decision the auto-stop's trip (order_rate, scope
   * `account`) makes: its places and amends waiting to be sent end, its new orders and amends are refused. An account
   * stopped with the other switch is moved to this one (CANCEL_ONLY -> HALT lets its flatten's held closes go); with
   * this one already, it ends what a cut-short stop left waiting. RESUME lifts it. The answer's lsn is null when
   * nothing was written (nothing left to end; an account not stopped, for RESUME).
   */
  accountSwitch(principal: Principal, accountId: string, action: KillSwitchAction, note: string): Promise<CommandResult> {
    return decideSwitchInParts(this.engine, this.clock, { principal, action, note, accountId })
  }

  /**
   * Changes the mode. An escalation with more work to end than one decision's records fit in the log's queue is
   * decided in parts (kernel mode-escalation.ts): each part is submitted once the one before is durable, and the last
   * records the change. Without parts, a change after a venue outage left more never-acknowledged places Unknown than
   * the queue takes records was refused as overloaded however often it was asked.
   */
  setMode(principal: Principal, mode: Mode, note: string): Promise<CommandResult> {
    const ordersMax = decisionOrdersMax(this.engine.wal.options.queueRecordsMax)
    return decideUntilLast(
      () => this.engine.submit({ kind: 'set_mode', nowMs: this.clock.nowMs(), principal, mode, note, ordersMax, buildCommit: this.options.buildCommit }),
      // The part that records the change is the last. Judged by the decision's own events, never by the state's mode,
      // which a concurrent change may already have moved on: read so, two concurrent changes asked each other's work
      // again, back and forth.
      (committed) => committed.decision.events.some((event) => event.type === 'mode.changed'),
      (decisions) => `the mode change ended work in ${decisions} decisions and more keeps coming; the mode is unchanged, ask again`,
    )
  }

  /** An emergency override of a venue's CRITICAL health (propose, approve, revoke): src/kernel/venue-health.ts. */
  venueOverride(request: VenueOverrideRequest): Promise<CommandResult> {
    return this.run({ ...request, kind: 'venue_override', nowMs: this.clock.nowMs(), buildCommit: this.options.buildCommit } as VenueOverrideCommand)
  }

  /** Revokes bearer tokens (one jti, or a subject's issued before a time): src/kernel/revocations.ts. */
  revokeToken(request: RevokeTokenRequest): Promise<CommandResult> {
    return this.run({ ...request, kind: 'revoke_token', nowMs: this.clock.nowMs(), buildCommit: this.options.buildCommit } as RevokeTokenCommand)
  }

  /**
   * Flattens an account. A flatten with more orders to cancel than one decision's records fit in the log's queue is
   * decided in parts (kernel flatten.ts): each part is submitted once the one before is durable, and the last records
   * the flatten and its closes; its lsn is the answer. Without parts, an account with more open orders than the queue
   * takes records had its flatten refused as overloaded however often it was asked. A repeat of the flatten (its id)
   * asked while its parts are decided waits for them and is decided then: held, it answers the first answer and decides
   * nothing. Asked with none under way, the first part is decided in the caller's tick (routes/admin.ts relies on it).
   *
   * A repeat waiting so holds none of the log's durability waiters (it has no LSN to wait for yet), so it is counted
   * against their bound (engine.durabilityWaiters.max) beside them: past it, it is refused as overloaded, as a place's
   * repeat waiting for its original's batch is. Before, repeats on a stalled disk waited one promise each, unbounded.
   */
  async flatten(principal: Principal, accountId: string, flattenId: string, request: RequestTrace = {}): Promise<CommandResult> {
    const key = `${accountId}\n${flattenId}`
    if (this.flattensUnderWay.has(key)) await this.awaitFlatten(key)
    const parts = this.flattenInParts(principal, accountId, flattenId, request)
    // One entry per flatten under way (each held by its request), gone as it ends.
    const ended = parts.then(
      () => undefined,
      () => undefined,
    )
    this.flattensUnderWay.set(key, ended)
    void ended.then(() => {
      if (this.flattensUnderWay.get(key) === ended) this.flattensUnderWay.delete(key)
    })
    return parts
  }

  /** Waits, as a repeat, until no flatten of `key` is under way; refused (EngineOverloadedError) past the bound. */
  private async awaitFlatten(key: string): Promise<void> {
    const waiters = this.engine.durabilityWaiters
    if (this.flattenRepeatsWaiting + waiters.size >= waiters.max) {
      throw new EngineOverloadedError(`${this.flattenRepeatsWaiting + waiters.size} answers already wait for the log`)
    }
    this.flattenRepeatsWaiting++
    try {
      for (let running = this.flattensUnderWay.get(key); running !== undefined; running = this.flattensUnderWay.get(key)) await running
    } finally {
      this.flattenRepeatsWaiting--
    }
  }

  private flattenInParts(principal: Principal, accountId: string, flattenId: string, request: RequestTrace): Promise<CommandResult> {
    const ordersMax = decisionOrdersMax(this.engine.wal.options.queueRecordsMax)
    return decideUntilLast(
      () => this.engine.submit({ ...this.flattenCommand(principal, accountId, flattenId), ...traceMemberOf(request), ordersMax }),
      // The part that holds the flatten's answer (at its last record) is the last; one that held nothing canceled a part
      // of the orders, and the rest is asked for.
      (committed) => this.engine.state.flattens.get(accountId)?.get(flattenId)?.lsn === lastLsnOf(committed),
      (decisions) => `the flatten canceled orders in ${decisions} decisions and more keeps coming; nothing closed yet, ask again`,
    )
  }

  /** Whether that flatten, decided now, would cancel or close anything (kernel flattenActs); decides nothing. */
  flattenActs(principal: Principal, accountId: string, flattenId: string): boolean {
    return flattenActs(this.engine.state, this.flattenCommand(principal, accountId, flattenId))
  }

  /** Whether the flatten `flattenId` of `accountId` holds its first answer now: a repeat of it decides nothing. */
  flattenHeld(accountId: string, flattenId: string): boolean {
    return heldFlatten(this.engine.state, accountId, flattenId, this.clock.nowMs()) !== null
  }

  private flattenCommand(principal: Principal, accountId: string, flattenId: string): FlattenCommand {
    return { kind: 'flatten', nowMs: this.clock.nowMs(), principal, accountId, flattenId, markets: this.market.snapshots(this.engine.state.instruments), buildCommit: this.options.buildCommit }
  }

  private run(command: Parameters<Engine['submit']>[0]): Promise<CommandResult> {
    try {
      return this.engine.submit(command).then(commandResultOf)
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

function commandResultOf(committed: Committed): CommandResult {
  return { reply: committed.decision.reply, lsn: lastLsnOf(committed) }
}
