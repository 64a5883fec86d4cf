/**
 * The only way time enters egress. The runtime owns a Clock (wall clock in production, a simulated clock in tests
 * and simulation); the kernel never reads it — time reaches the kernel only inside recorded commands and events.
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number
  /** Runs `callback` after `delayMs`; returns a function that cancels it. */
  schedule(delayMs: number, callback: () => void): () => void
}
