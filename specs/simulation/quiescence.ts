/**
 * When the end of a simulation run may compare egress with the venue: once nothing is on its way in either direction.
 * Egress has no work waiting and no call in flight, and the venue has no report on its way. The venue acts on its own
 * clock even with prices frozen (it expires DAY orders when their time comes), so "egress is idle" alone is not
 * enough: an order the venue expired a few milliseconds ago is still open for egress until the report lands, and a
 * comparison at that instant blames egress for news it cannot have yet.
 */

import { run, type World } from '../runtime/harness.ts'

/** How long runUntilQuiescent drives the clock at most before it gives up (the checks that follow then fail). */
export const QUIESCENT_LIMIT_MS = 120_000
/** Simulated time between two looks; a report is on its way for at most the venue's latency (plus a reorder delay). */
const QUIESCENT_STEP_MS = 100

/** Nothing waiting, nothing in flight, nothing Unknown, no venue report on its way: only resting and finished orders. */
export function quiescent(world: World): boolean {
  const { state } = world.gateway.engine
  if (state.inFlight.size > 0 || world.gateway.executor.stats.callsInFlight > 0) return false
  if (state.queues.some((queue) => queue.size > 0)) return false
  if (world.gateway.engine.pending !== 0) return false
  return world.venue.inspect().reportsInFlight === 0
}

/** Drives the clock until quiescent, for at most QUIESCENT_LIMIT_MS of simulated time. */
export async function runUntilQuiescent(world: World): Promise<void> {
  const deadlineMs = world.clock.nowMs() + QUIESCENT_LIMIT_MS
  while (!quiescent(world) && world.clock.nowMs() < deadlineMs) await run(world, QUIESCENT_STEP_MS)
}
