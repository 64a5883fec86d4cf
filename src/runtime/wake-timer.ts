/**
 * One timer that wakes a picker at the earliest time anything it set aside becomes due: arming it for a later time
 * than the one already set does nothing, for an earlier one moves it. The executor's (a backing-off item, a spent
 * request budget, a send decision's wait after it threw).
 */

import type { Clock } from '../domain/clock.ts'

export class WakeTimer {
  private cancelTimer: (() => void) | null = null
  private dueMs = Number.POSITIVE_INFINITY

  constructor(
    private readonly clock: Clock,
    private readonly onDue: () => void,
  ) {}

  /** Wakes at `dueMs` (clock time) unless already set to wake sooner; +Infinity does nothing. */
  armAt(dueMs: number): void {
    if (dueMs === Number.POSITIVE_INFINITY || dueMs >= this.dueMs) return
    this.cancelTimer?.()
    this.dueMs = dueMs
    this.cancelTimer = this.clock.schedule(Math.max(0, dueMs - this.clock.nowMs()), this.fired)
  }

  cancel(): void {
    this.cancelTimer?.()
    this.cancelTimer = null
    this.dueMs = Number.POSITIVE_INFINITY
  }

  private readonly fired = (): void => {
    this.cancelTimer = null
    this.dueMs = Number.POSITIVE_INFINITY
    this.onDue()
  }
}
