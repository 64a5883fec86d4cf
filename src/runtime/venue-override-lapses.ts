/**
 * Records the lapse of each venue's emergency override (§14) when it reaches its expiry (`venue.override_lapsed`), so
 * the log — and explain and audit, which read it — says when check 8 started holding the venue again. Nothing waits on
 * the record: the gate compares a send's time with the override's untilMs (src/kernel/venue-health.ts), so a record
 * that comes late (a crash before it was written, a failover) or never (a standby, which only follows) changes no send.
 *
 * The leader runs it after bootstrap, as it does venue health: one timer, armed for the earliest expiry the kernel
 * holds, and again whenever an override record becomes durable. At start it records at once every lapse a previous
 * process left unrecorded (`atMs` then later than `untilMs`: the record says both). The kernel records a lapse once:
 * a second notice finds the override gone (decideVenueOverrideLapse). Bounded: one timer; one check per override
 * record and per expiry, over the venues the kernel holds.
 */

import type { Clock } from '../domain/clock.ts'
import type { Engine } from './engine.ts'
import type { AppliedEvent } from './engine-types.ts'

/** How soon a lapse the log refused (overloaded) is asked for again. */
const LAPSE_RETRY_MS = 1_000

export interface VenueOverrideLapsesOptions {
  engine: Engine
  clock: Clock
  onError: (error: unknown, context: string) => void
}

export class VenueOverrideLapses {
  private timerCancel: (() => void) | null = null
  private unsubscribe: (() => void) | null = null
  private running = false

  constructor(private readonly options: VenueOverrideLapsesOptions) {}

  /** Records the lapses due now and watches for the next ones (a leader, after bootstrap). */
  start(): void {
    if (this.running) return
    this.running = true
    this.unsubscribe = this.options.engine.onDurable(this.onDurable)
    this.check()
  }

  stop(): void {
    this.running = false
    this.unsubscribe?.()
    this.unsubscribe = null
    this.timerCancel?.()
    this.timerCancel = null
  }

  private readonly onDurable = (events: AppliedEvent[]): void => {
    if (events.some(({ event }) => event.type === 'venue.override_proposed' || event.type === 'venue.override_approved')) this.check()
  }

  /** Asks the kernel to record every override expired by now, and arms the timer for the earliest expiry after it. */
  private readonly check = (): void => {
    this.timerCancel?.()
    this.timerCancel = null
    if (!this.running) return
    const { engine, clock } = this.options
    const nowMs = clock.nowMs()
    let nextMs = Number.POSITIVE_INFINITY
    for (const [venue, entry] of engine.state.venueHealth) {
      const override = entry.override
      if (override === null) continue
      if (nowMs >= override.untilMs) this.record(venue, override.overrideId, nowMs)
      else nextMs = Math.min(nextMs, override.untilMs)
    }
    if (nextMs !== Number.POSITIVE_INFINITY) this.timerCancel = clock.schedule(nextMs - nowMs, this.check)
  }

  private record(venue: string, overrideId: string, nowMs: number): void {
    const context = `the lapse of override ${overrideId}`
    try {
      // Applied at once (the override leaves the kernel's state), so the next check does not ask again. A log that
      // refused it (overloaded: nothing applied) leaves the override there, asked for again a little later.
      this.options.engine.submit({ kind: 'venue_override_lapse', nowMs, venue, overrideId }).catch((error: unknown) => {
        this.options.onError(error, context)
        this.checkLater()
      })
    } catch (error) {
      this.options.onError(error, context)
      this.checkLater()
    }
  }

  private checkLater(): void {
    if (!this.running) return
    this.timerCancel?.()
    this.timerCancel = this.options.clock.schedule(LAPSE_RETRY_MS, this.check)
  }
}
