/**
 * The bound on serve's gateway stop once the port has closed (src/cli/serve.ts), and on an HA node's teardown
 * (ha/teardown.ts): the drain, the seal, the shutdown snapshot, the log's close. It was a fixed 30 s, which a healthy
 * stop of a large state outgrew (a million orders: the shutdown snapshot alone 19.5 s on a loaded 2-core machine,
 * scripts/bench-takeover-stop.ts): it exited 1 with the snapshot not written, and the next start replayed the log. Now
 * the stop is cut only when it makes no progress for `stallMsMax` (Gateway.stopProgress: steps done, records and
 * segments, the snapshot's slices and the pieces of its file), as a disk whose syncs never answer makes none, or when
 * it still runs at `ceilingMs` however it advances.
 *
 * A step that holds the event loop (a snapshot's encode slice) is not cut while it runs: no timer fires meanwhile. It
 * tells its progress before the loop turns, so the check after it sees the step, not a stall. The snapshot file is
 * written and fsynced off the loop, a piece (8 MiB) a call, each a step (store-write.ts): a slow disk advances, a disk
 * whose fsync never answers is a stall — written on the loop, it held the process for good.
 */

export interface StopBounds {
  /** Time without progress after which the stop is cut. */
  stallMsMax: number
  /** Time after which the stop is cut even while it advances. */
  ceilingMs: number
  /** How often progress is read. */
  checkEveryMs: number
}

/**
 * serve's bounds, and an HA node's teardown's (ha/teardown.ts teardownBounds). 30 s without progress, the fixed bound's
 * old figure: longer than any wait of the stop that has its own bound and tells nothing meanwhile (the drain,
 * STOP_DRAIN_MS_MAX 10 s; the shutdown compaction's basis check, 5 s; a FIX session's Logout answer, logoutTimeoutMs,
 * 2 s, which serve's config does not set; an HA leader's hand-off of its log's tail, TAIL_HANDOFF_WAIT_MS_MAX 3 s). The
 * ceiling, 10 minutes (some 30 times the measured million-order snapshot), ends a stop that keeps advancing without end.
 * A spec's preload shortens them (specs/cli/support/hang-sync-preload.ts), as it replaces nodeIo's calls.
 */
export const GATEWAY_STOP_BOUNDS: StopBounds = { stallMsMax: 30_000, ceilingMs: 600_000, checkEveryMs: 250 }

/** How a watched stop ended: done, or cut for making no progress, or cut at the ceiling. */
export type StopWatchEnd = 'stopped' | 'stalled' | 'ceiling'

/** Waits for `stop` (its rejection passes through) while `progress()` keeps changing, within `bounds`. */
export async function watchStop(stop: Promise<void>, progress: () => number, bounds: StopBounds): Promise<StopWatchEnd> {
  const startedMs = performance.now()
  let mark = progress()
  let markedMs = startedMs
  let timer: ReturnType<typeof setInterval> | undefined
  const cut = new Promise<StopWatchEnd>((resolve) => {
    timer = setInterval(() => {
      const nowMs = performance.now()
      const now = progress()
      if (now !== mark) {
        mark = now
        markedMs = nowMs
      } else if (nowMs - markedMs >= bounds.stallMsMax) resolve('stalled')
      if (nowMs - startedMs >= bounds.ceilingMs) resolve('ceiling')
    }, bounds.checkEveryMs)
  })
  try {
    return await Promise.race([stop.then(() => 'stopped' as const), cut])
  } finally {
    clearInterval(timer)
  }
}

/** The line a cut stop logs before the process exits. */
export function stopCutLine(end: Exclude<StopWatchEnd, 'stopped'>, bounds: StopBounds): string {
  const why = end === 'stalled'
    ? `the gateway's stop made no progress for ${bounds.stallMsMax} ms (a disk not answering?)`
    : `the gateway did not stop within ${bounds.ceilingMs} ms, the stop's ceiling`
  return `${why}; exiting without the rest of the stop, a restart recovers from the log`
}
