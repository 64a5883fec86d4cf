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
   * From now on never gives a time before `ms` (the latest time the log holds, at start: see src/runtime/log-time.ts).
   * A wall clock implements it; a simulated clock, whose time only its driver moves, need not.
   */
  notBefore?(ms: number): void
}
