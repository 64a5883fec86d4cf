/**
 * Automatic stop (seed 004 §8: rollout with automatic stop; config `autoStop`): circuit breakers that engage the kill
 * switch by themselves when the running gateway misbehaves — a venue rejecting the places it is sent, orders piling up
 * Unknown, a runaway bot's order rate, a venue's answers slower than the SLO (auto-stop-breakers.ts). A trip submits
 * the kernel's `kill_switch` command as AUTO_STOP_PRINCIPAL with a note naming the breaker, its figures and its
 * threshold: the `switch.changed` record it writes is the evidence, explained and audited like an operator's switch.
 *
 * Only a leader runs it (Gateway.start starts it after bootstrap; a standby never does: its log is the leader's). Its
 * rules:
 * - it only ever engages a switch from `normal`. A switch engaged already (HALT or CANCEL_ONLY, by an operator, the
 *   audit duty or a breaker) is left as it is: the two are not ordered one above the other (HALT sends flatten's closes,
 *   CANCEL_ONLY holds them), so changing one into the other could loosen what was chosen, and it never resumes;
 * - once per engagement: after a trip, or while any switch is engaged, the breakers are idle (nothing is counted) until
 *   a RESUME is durable; then they re-arm with their windows started again, so no figure from before the RESUME trips
 *   them (nor the answer to a call made before it) and no record storm follows a trip;
 * - a submit the engine refused (its log full) is not retried at once nor in a loop: the breakers may trip again from
 *   the next evaluation on (evaluateEveryMs later), on figures as they stand then. A kill switch is idempotent anyway.
 *
 * The order_rate breaker with scope `account` (the default) stops the account whose rate it tripped on, not the
 * gateway (seed 004 §9: accounts apart): its trip submits `kill_switch` for that account (kernel account-switch.ts),
 * whose `account.switch_changed` record is the evidence; every other account, and every breaker, stays armed. That
 * account is not counted again until its switch is lifted (RESUME of the account, or the gateway's RESUME), and then
 * its window starts again. With scope `all` the trip engages the gateway's switch, as every other breaker's does.
 */

import type { Principal } from '../domain/accounts.ts'
import type { Clock } from '../domain/clock.ts'
import type { AutoStopConfig } from '../config/index.ts'
import type { VenueOutcome } from '../venues/adapter.ts'
import { AckLatencyBreaker, BREAKER_NAMES, OrderRateBreaker, UnknownOrdersBreaker, VenueRejectsBreaker, type Breaker, type BreakerName } from './auto-stop-breakers.ts'
import { decideSwitchInParts } from './decision-parts.ts'
import type { AppliedEvent, Engine } from './engine.ts'
import type { SendResultCommand } from './venue-send.ts'

/** The identity the gateway acts as when a breaker trips: recorded in the `switch.changed` record like any principal. */
export const AUTO_STOP_PRINCIPAL: Principal = { id: 'egress-auto-stop', roles: ['ops'], accounts: [], liveAllowed: false }

export interface AutoStopOptions {
  engine: Engine
  clock: Clock
  config: AutoStopConfig
  /** Whether the venue's adapter gave `outcome` itself (VenueAdapter.answeredLocally): no evidence about the venue. */
  answeredLocally: (venue: string, outcome: VenueOutcome<unknown>) => boolean
  onError: (error: unknown, context: string) => void
}

/** The last trip this process made, for GET /v1/auto_stop. */
export interface AutoStopTrip {
  breaker: BreakerName
  atMs: number
  note: string
  /** The account the trip stopped (order_rate, scope account); absent: the gateway's switch. */
  accountId?: string
}

export class AutoStop {
  private readonly venueRejects: VenueRejectsBreaker | null
  private readonly ackLatency: AckLatencyBreaker | null
  private readonly orderRate: OrderRateBreaker | null
  private readonly unknownOrders: UnknownOrdersBreaker | null
  readonly breakers: readonly Breaker[]
  private readonly tripCounts = new Map<BreakerName, number>()
  private running = false
  /** A trip was made, or a switch is engaged: idle until a RESUME is durable. */
  private awaitingResume = false
  /** When the breakers were armed (start, the last RESUME): an Unknown order's dwell counts from here at the earliest. */
  private armedAtMs = 0
  /** After a submit the engine refused: no trip before this time. */
  private holdUntilMs = Number.NEGATIVE_INFINITY
  /** Accounts whose own switch a trip asked for and the log does not hold yet: not counted, not tripped again. */
  private readonly accountsTripping = new Set<string>()
  /**
   * Accounts whose trip the engine refused (its log full), each until the next evaluation: not counted nor tripped
   * before it, as a refused trip of the gateway's switch holds every breaker (holdUntilMs). At most one per account.
   */
  private readonly accountHoldUntilMs = new Map<string, number>()
  private timerCancel: (() => void) | null = null
  private unsubscribe: (() => void) | null = null
  lastTrip: AutoStopTrip | null = null

  constructor(private readonly options: AutoStopOptions) {
    const { config } = options
    this.venueRejects = config.venueRejects === undefined ? null : new VenueRejectsBreaker(config.venueRejects)
    this.ackLatency = config.ackLatency === undefined ? null : new AckLatencyBreaker(config.ackLatency)
    this.orderRate = config.orderRate === undefined ? null : new OrderRateBreaker(config.orderRate)
    this.unknownOrders = config.unknownOrders === undefined ? null : new UnknownOrdersBreaker(config.unknownOrders)
    this.breakers = [this.venueRejects, this.unknownOrders, this.orderRate, this.ackLatency].filter((breaker) => breaker !== null)
    for (const breaker of this.breakers) this.tripCounts.set(breaker.name, 0)
  }

  /** Arms the breakers (a leader, after bootstrap): counts from now, and the Unknown lane every evaluateEveryMs. */
  start(): void {
    if (this.running || this.breakers.length === 0) return
    this.running = true
    this.rearm()
    this.awaitingResume = this.options.engine.state.tradingSwitch !== 'normal'
    this.unsubscribe = this.options.engine.onDurable(this.onDurable)
    if (this.unknownOrders !== null) this.tick()
  }

  stop(): void {
    this.running = false
    this.timerCancel?.()
    this.timerCancel = null
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  get armed(): boolean {
    return this.running && !this.awaitingResume && this.options.engine.state.tradingSwitch === 'normal'
  }

  /** Trips this process made per breaker (egress_auto_stop_trips_total). */
  trips(breaker: BreakerName): number {
    return this.tripCounts.get(breaker) ?? 0
  }

  /** The executor's onCall: a venue's answer to a place, cancel or amend made at `sentAtMs`. O(1). */
  observeCall(venue: string, outcome: VenueOutcome<unknown>, sentAtMs: number, call: SendResultCommand['kind']): void {
    if ((this.venueRejects === null && this.ackLatency === null) || !this.mayTrip()) return
    // A call made before the breakers were armed (a cancel or a flatten's close in flight as the operator resumed) is
    // evidence from before the RESUME: counted, the slow call or reject resumed over tripped them again at once.
    if (sentAtMs < this.armedAtMs) return
    if (this.options.answeredLocally(venue, outcome)) return
    const nowMs = this.options.clock.nowMs()
    if (this.venueRejects !== null && call === 'place_result' && (outcome.kind === 'ok' || outcome.kind === 'rejected')) {
      const over = this.venueRejects.observe(venue, outcome.kind === 'rejected', nowMs)
      if (over !== null) return this.trip(this.venueRejects, over)
    }
    if (this.ackLatency !== null) {
      const over = this.ackLatency.observe(venue, Math.max(0, nowMs - sentAtMs), nowMs)
      if (over !== null) this.trip(this.ackLatency, over)
    }
  }

  /** Durable records: new orders feed the order rate; a RESUME re-arms, any other switch change idles the breakers. */
  private readonly onDurable = (applied: AppliedEvent[]): void => {
    for (const { event } of applied) {
      if (event.type === 'switch.changed') {
        if (event.switch === 'normal') this.rearm()
        else this.awaitingResume = true
      } else if (event.type === 'account.switch_changed') {
        this.accountsTripping.delete(event.accountId)
        this.accountHoldUntilMs.delete(event.accountId)
        if (event.switch === 'normal') this.orderRate?.resetAccount(event.accountId)
      } else if (event.type === 'order.accepted' && this.orderRate !== null && event.flattenId === null && this.mayTrip()) {
        // A flatten's closing orders reduce risk an operator or client asked to reduce: not a runaway's.
        this.observeOrder(this.orderRate, event.accountId)
      }
    }
  }

  /** A new order accepted: per account, an account stopped (or being stopped) is not counted; its trip stops it alone. */
  private observeOrder(breaker: OrderRateBreaker, accountId: string): void {
    const perAccount = breaker.perAccount
    if (perAccount && (this.accountsTripping.has(accountId) || this.options.engine.state.accountSwitches.has(accountId))) return
    const nowMs = this.options.clock.nowMs()
    if (perAccount && this.accountHeld(accountId, nowMs)) return
    const over = breaker.observe(accountId, nowMs)
    if (over === null) return
    if (perAccount) this.tripAccount(breaker, accountId, over)
    else this.trip(breaker, over)
  }

  /** Whether the account's refused trip still holds it (accountHoldUntilMs); a hold past is let go. */
  private accountHeld(accountId: string, nowMs: number): boolean {
    const untilMs = this.accountHoldUntilMs.get(accountId)
    if (untilMs === undefined) return false
    if (nowMs < untilMs) return true
    this.accountHoldUntilMs.delete(accountId)
    return false
  }

  private readonly tick = (): void => {
    this.timerCancel = null
    if (!this.running) return
    const breaker = this.unknownOrders
    if (breaker !== null && this.mayTrip()) {
      const over = breaker.check(this.options.engine.state, this.options.clock.nowMs(), this.armedAtMs)
      if (over !== null) this.trip(breaker, over)
    }
    this.timerCancel = this.options.clock.schedule(this.options.config.evaluateEveryMs, this.tick)
  }

  /** Armed, and not held after a refused submit. A switch engaged since the last look idles the breakers at once. */
  private mayTrip(): boolean {
    if (!this.running || this.awaitingResume) return false
    if (this.options.engine.state.tradingSwitch !== 'normal') {
      this.awaitingResume = true
      return false
    }
    return this.options.clock.nowMs() >= this.holdUntilMs
  }

  /** Every breaker's figures start again, and the Unknown dwell counts from now. */
  private rearm(): void {
    this.awaitingResume = false
    this.accountsTripping.clear()
    this.accountHoldUntilMs.clear()
    this.armedAtMs = this.options.clock.nowMs()
    for (const breaker of this.breakers) breaker.reset()
  }

  /** Engages the breaker's switch, once: the breakers idle from here until a RESUME (or a refusal) says otherwise. */
  private trip(breaker: Breaker, figures: string): void {
    const { engine, clock, onError } = this.options
    const atMs = clock.nowMs()
    const note = `auto-stop ${breaker.name}: ${figures}`
    this.awaitingResume = true
    const refused = (error: unknown): void => {
      // Nothing was applied (the log's queue was full): the breakers may try again at the next evaluation, not before.
      if (engine.state.tradingSwitch === 'normal') {
        this.awaitingResume = false
        this.holdUntilMs = clock.nowMs() + this.options.config.evaluateEveryMs
      }
      onError(error, `auto-stop ${breaker.name}: the kill switch was not applied`)
    }
    // In parts sized to the log's queue (decision-parts.ts): a runaway's queued places must not make the switch too large.
    decideSwitchInParts(engine, clock, { principal: AUTO_STOP_PRINCIPAL, action: breaker.action, note }).then(({ reply }) => {
      if (reply.kind === 'refused') return refused(new Error(`${reply.reason}: ${reply.detail}`))
      this.tripCounts.set(breaker.name, this.trips(breaker.name) + 1)
      this.lastTrip = { breaker: breaker.name, atMs, note }
    }, refused)
  }

  /**
   * Stops one account (order_rate, scope account): its own switch, in parts as the gateway's (decision-parts.ts). The
   * other accounts and the other breakers stay armed. Refused (the log full), the account is neither counted nor
   * tripped again before the next evaluation (evaluateEveryMs later), as a refused trip of the gateway's switch: then
   * from its next order, on figures as they stand. Before, every order of the runaway accepted meanwhile submitted the
   * switch again, and each refusal was told again: a retry per order while the log was full.
   */
  private tripAccount(breaker: OrderRateBreaker, accountId: string, figures: string): void {
    const { engine, clock, onError } = this.options
    const atMs = clock.nowMs()
    const note = `auto-stop ${breaker.name}: ${figures}`
    this.accountsTripping.add(accountId)
    const refused = (error: unknown): void => {
      this.accountsTripping.delete(accountId)
      this.accountHoldUntilMs.set(accountId, clock.nowMs() + this.options.config.evaluateEveryMs)
      onError(error, `auto-stop ${breaker.name}: the kill switch of account ${accountId} was not applied`)
    }
    decideSwitchInParts(engine, clock, { principal: AUTO_STOP_PRINCIPAL, action: breaker.action, note, accountId }).then(({ reply }) => {
      if (reply.kind === 'refused') return refused(new Error(`${reply.reason}: ${reply.detail}`))
      this.tripCounts.set(breaker.name, this.trips(breaker.name) + 1)
      this.lastTrip = { breaker: breaker.name, atMs, note, accountId }
    }, refused)
  }

  /** GET /v1/auto_stop: armed or not, each breaker's action, threshold and figures now, trips, the last trip. */
  status(): Record<string, unknown> {
    const nowMs = this.options.clock.nowMs()
    const state = this.options.engine.state
    return {
      running: this.running,
      armed: this.armed,
      armed_at_ms: this.running ? this.armedAtMs : null,
      breakers: BREAKER_NAMES.flatMap((name) => {
        const breaker = this.breakers.find((item) => item.name === name)
        return breaker === undefined ? [] : [{ breaker: name, action: breaker.action, trips: this.trips(name), ...breaker.figures(nowMs, state, this.armedAtMs) }]
      }),
      last_trip: this.lastTrip === null ? null : { breaker: this.lastTrip.breaker, at_ms: this.lastTrip.atMs, note: this.lastTrip.note, account: this.lastTrip.accountId ?? null },
    }
  }
}
