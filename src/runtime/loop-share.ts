/**
 * Pacing for background duties that work in slices on the event loop (the back office's reads of the query model
 * and its venue checks; the audit self-check too, before it moved to a thread of its own): between two slices, wait
 * long enough that the duty holds at most `shareMax` of the loop, judged by the slice just done.
 *
 * Why not one event-loop turn (setImmediate) between slices: a turn lets through only what is already queued, so a
 * duty with a few hundred ms of work took most of the loop for as long as it ran. At half load the requests need
 * about half the loop already; together they exceeded it, requests queued behind the slices, and every order in
 * that window waited (bench:http: 70 ms and 50 ms runs of back-to-back replay slices under a p99 of 40-120 ms).
 * Waiting in proportion to the slice bounds the duty's share; the duty takes longer, intake keeps the rest.
 */

export interface LoopShareOptions {
  /** The most of the event loop the duty may hold, over a slice and the wait after it: in (0, 1]. */
  shareMax: number
  /** The longest wait after one slice, so a slice stretched by a descheduled process does not park the duty. */
  waitMsMax: number
}

/**
 * A pause to await between slices: it measures the slice since the last pause returned (or since this call) and
 * waits `slice × (1 − shareMax) / shareMax` ms, at most `waitMsMax`; under 1 ms, one event-loop turn.
 */
export function loopSharePause(options: LoopShareOptions): () => Promise<void> {
  checkLoopShare(options)
  let resumedAtMs = performance.now()
  return async function pauseForLoopShare(): Promise<void> {
    await pauseAfterSlice(performance.now() - resumedAtMs, options)
    resumedAtMs = performance.now()
  }
}

/**
 * The pause after one slice of `sliceMs` that keeps the duty within `shareMax` of the loop (see loopSharePause), for a
 * caller that times its slices itself (work shared by several callers that take turns: src/http/sse/replay-turns.ts).
 */
export function pauseAfterSlice(sliceMs: number, options: LoopShareOptions): Promise<void> {
  const waitMs = Math.min(options.waitMsMax, (sliceMs * (1 - options.shareMax)) / options.shareMax)
  return new Promise((resolve) => {
    if (waitMs < 1) setImmediate(resolve)
    else setTimeout(resolve, waitMs)
  })
}

/** Throws RangeError for options loopSharePause cannot pace by. */
export function checkLoopShare(options: LoopShareOptions): void {
  if (!(options.shareMax > 0 && options.shareMax <= 1)) throw new RangeError(`shareMax must be in (0, 1], got ${options.shareMax}`)
  if (!(options.waitMsMax >= 0)) throw new RangeError(`waitMsMax must be ≥ 0, got ${options.waitMsMax}`)
}
