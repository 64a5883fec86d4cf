/**
 * How much of the event loop the back office's own work there may take: its reads of the query model before a
 * reconcile run and its walks over held orders in the venue checks go in slices, each followed by a wait that keeps
 * the work to a quarter of the loop (src/runtime/loop-share.ts), at most 50 ms a wait.
 */

import { loopSharePause } from '../runtime/loop-share.ts'

export const BACKOFFICE_LOOP_SHARE = { shareMax: 0.25, waitMsMax: 50 } as const

/** A fresh pause paced to the back office's share of the loop. */
export function backOfficePause(): () => Promise<void> {
  return loopSharePause(BACKOFFICE_LOOP_SHARE)
}
