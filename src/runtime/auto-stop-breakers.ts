/**
 * The auto-stop breakers (config `autoStop`, auto-stop.ts runs them): each keeps its own figures, is fed what it
 * watches, and says when its figure went above its threshold, in the words that go into the `switch.changed` record's
 * note (the breaker, its figures and its threshold), so the log explains the stop. The windowed ones are fed in O(1)
 * (window-counts.ts); the Unknown-order one counts the Unknown lane on a timer, never on the order path.
 *
 * Bounded: a window per venue the executor calls (its adapters) and per account the kernel accepts orders for (the
 * configured accounts), or one in all.
 */

import type { AutoStopConfig } from '../config/index.ts'
import type { KernelState } from '../kernel/index.ts'
import { WindowCounts } from './window-counts.ts'

export const BREAKER_NAMES = ['venue_rejects', 'unknown_orders', 'order_rate', 'ack_latency'] as const
export type BreakerName = (typeof BREAKER_NAMES)[number]
export type BreakerAction = 'HALT' | 'CANCEL_ONLY'

type Section<K extends keyof AutoStopConfig> = Exclude<AutoStopConfig[K], undefined>

/** What every breaker has: its name, its action, a restart of its figures (re-armed), its figures for the read route. */
export interface Breaker {
  readonly name: BreakerName
  readonly action: BreakerAction
  reset(): void
  /** Its figures now, for GET /v1/auto_stop; `armedAtMs`: when the breakers were last armed (the start, a RESUME). */
  figures(nowMs: number, state: KernelState, armedAtMs: number): Record<string, unknown>
}

/** Windows by key (a venue, an account), made on first use. */
class KeyedWindows {
  readonly byKey = new Map<string, WindowCounts>()
  constructor(private readonly windowMs: number) {}

  of(key: string): WindowCounts {
    let counts = this.byKey.get(key)
    if (counts === undefined) {
      counts = new WindowCounts(this.windowMs)
      this.byKey.set(key, counts)
    }
    return counts
  }
}

/** A breaker over sliding windows (per venue, per account, or one in all): its action, its windows, their restart. */
abstract class WindowedBreaker<C extends { action: BreakerAction; windowMs: number }> {
  readonly action: BreakerAction
  protected readonly windows: KeyedWindows

  constructor(protected readonly config: C) {
    this.action = config.action
    this.windows = new KeyedWindows(config.windowMs)
  }

  reset(): void {
    this.windows.byKey.clear()
  }
}

/** A venue rejecting the places it is sent: more than rejectPctMax % of its answers to places, over samplesMin answers. */
export class VenueRejectsBreaker extends WindowedBreaker<Section<'venueRejects'>> implements Breaker {
  readonly name = 'venue_rejects'

  /** A venue's answer to a place (accepted or rejected); the note's figures when the share is now above the threshold. */
  observe(venue: string, rejected: boolean, atMs: number): string | null {
    const counts = this.windows.of(venue)
    counts.add(atMs, rejected)
    const answers = counts.all(atMs)
    const rejects = counts.hits(atMs)
    const { samplesMin, rejectPctMax, windowMs } = this.config
    if (answers < samplesMin || rejects * 100 <= rejectPctMax * answers) return null
    return `${rejects} of ${answers} answers of venue ${venue} to places were rejects (${Math.floor((rejects * 100) / answers)}%) in the last ${windowMs} ms, above ${rejectPctMax}% (at least ${samplesMin} answers)`
  }

  figures(nowMs: number): Record<string, unknown> {
    const { windowMs, samplesMin, rejectPctMax } = this.config
    const venues = [...this.windows.byKey].map(([venue, counts]) => ({ venue, answers: counts.all(nowMs), rejects: counts.hits(nowMs) }))
    return { window_ms: windowMs, samples_min: samplesMin, reject_pct_max: rejectPctMax, venues }
  }
}

/**
 * An SLO breaker: a venue's answers to places, cancels and amends (its own, not its adapter's) slower than p99MsMax at
 * the 99th percentile (nearest rank) over samplesMin calls or more. The percentile needs no sorted sample: the p99 of n
 * calls is above T exactly when more than n − ⌈0.99 n⌉ of them took longer than T, two running counts.
 */
export class AckLatencyBreaker extends WindowedBreaker<Section<'ackLatency'>> implements Breaker {
  readonly name = 'ack_latency'

  observe(venue: string, latencyMs: number, atMs: number): string | null {
    const { samplesMin, p99MsMax, windowMs } = this.config
    const counts = this.windows.of(venue)
    counts.add(atMs, latencyMs > p99MsMax)
    const calls = counts.all(atMs)
    const slow = counts.hits(atMs)
    const allowed = slowAllowed(calls)
    if (calls < samplesMin || slow <= allowed) return null
    return `p99 of venue ${venue}'s answers to places, cancels and amends above ${p99MsMax} ms: ${slow} of ${calls} calls slower in the last ${windowMs} ms, at most ${allowed} may be (at least ${samplesMin} calls)`
  }

  figures(nowMs: number): Record<string, unknown> {
    const { windowMs, samplesMin, p99MsMax } = this.config
    const venues = [...this.windows.byKey].map(([venue, counts]) => ({ venue, calls: counts.all(nowMs), slow: counts.hits(nowMs) }))
    return { window_ms: windowMs, samples_min: samplesMin, p99_ms_max: p99MsMax, venues }
  }
}

/** How many of `calls` may be slower than the bound with the p99 still within it: calls − ⌈0.99 calls⌉ (integers only). */
export function slowAllowed(calls: number): number {
  return calls - Math.floor((99 * calls + 99) / 100)
}

/**
 * A runaway bot: more than ordersMax new orders accepted within windowMs, per account (scope account) or in all. With
 * scope account its trip stops that account only (auto-stop.ts, kernel account-switch.ts); with scope all, the gateway.
 */
export class OrderRateBreaker extends WindowedBreaker<Section<'orderRate'>> implements Breaker {
  readonly name = 'order_rate'

  get perAccount(): boolean {
    return this.config.scope !== 'all'
  }

  /** One account's window starts again (its own switch lifted): no figure from before the RESUME trips it. */
  resetAccount(accountId: string): void {
    if (this.perAccount) this.windows.byKey.delete(accountId)
  }

  observe(accountId: string, atMs: number): string | null {
    const { scope, ordersMax, windowMs } = this.config
    const counts = this.windows.of(scope === 'all' ? '' : accountId)
    counts.add(atMs, true)
    const orders = counts.all(atMs)
    if (orders <= ordersMax) return null
    const whose = scope === 'all' ? 'over all accounts' : `for account ${accountId}`
    return `${orders} new orders accepted ${whose} in the last ${windowMs} ms, above ${ordersMax}`
  }

  figures(nowMs: number): Record<string, unknown> {
    const { windowMs, ordersMax, scope } = this.config
    let busiest: { account: string | null; orders: number } = { account: null, orders: 0 }
    for (const [key, counts] of this.windows.byKey) {
      const orders = counts.all(nowMs)
      if (orders > busiest.orders) busiest = { account: scope === 'all' ? null : key, orders }
    }
    return { window_ms: windowMs, orders_max: ordersMax, scope, busiest }
  }
}

/**
 * Orders piling up Unknown: more than ordersMax orders Unknown for dwellMs or longer. An order's dwell counts from when
 * it went Unknown or from when the breaker was armed (the start, an operator's RESUME), whichever is later: an operator
 * who resumed with orders still Unknown has dwellMs for them to converge before it trips again.
 */
export class UnknownOrdersBreaker implements Breaker {
  readonly name = 'unknown_orders'
  readonly action: BreakerAction

  constructor(private readonly config: Section<'unknownOrders'>) {
    this.action = config.action
  }

  /** The note's figures when more than ordersMax orders dwell Unknown; a walk of the Unknown lane (Lane3), on a timer. */
  check(state: KernelState, nowMs: number, armedAtMs: number): string | null {
    const { ordersMax, dwellMs } = this.config
    const orders = this.dwelling(state, nowMs, armedAtMs)
    if (orders <= ordersMax) return null
    return `${orders} orders Unknown for ${dwellMs} ms or longer, above ${ordersMax}`
  }

  dwelling(state: KernelState, nowMs: number, armedAtMs: number): number {
    let orders = 0
    for (const orderId of state.queues[3].keys()) {
      const since = state.orders.get(orderId)?.unknownSinceMs
      if (since != null && nowMs - Math.max(since, armedAtMs) >= this.config.dwellMs) orders++
    }
    return orders
  }

  reset(): void {}

  figures(nowMs: number, state: KernelState, armedAtMs: number): Record<string, unknown> {
    return { orders_max: this.config.ordersMax, dwell_ms: this.config.dwellMs, orders: this.dwelling(state, nowMs, armedAtMs) }
  }
}
