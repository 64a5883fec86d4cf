/**
 * The only way time enters egress. The runtime owns a Clock (wall clock in production, a simulated clock in tests
 * and simulation); the kernel never reads it — time reaches the kernel only inside recorded commands and events.
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number
  /** Runs `callback` after `delayMs`; returns a function that cancels it. */
  schedule(delayMs: number, callback: () => void): () => void
  /**
   * Runs `callback(argument)` after `delayMs`, with no way to cancel it. For the timers a venue sets per order that
   * always run (the sim venue's answers and reports): with no cancel function to make and the argument carried by the
   * timer, they cost no closure per call. Ordered with `schedule`'s timers as if scheduled by it.
   */
  after<A>(delayMs: number, callback: (argument: A) => void, argument: A): void
  /**
   * From now on never gives a time before `ms` (the latest time the log holds, at start: see src/runtime/log-time.ts).
   * A wall clock implements it; a simulated clock, whose time only its driver moves, need not.
   */
  notBefore?(ms: number): void
}
