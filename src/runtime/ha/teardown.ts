/**
 * The teardown of a stopping HA node (HaNode.stop): every step runs even when an earlier one throws. A gateway whose
 * stop failed used to end stop() there, leaving the lease-renewal timer running — renewing the lease for good, so no
 * other node could ever take over — and the lease unreleased. Each failure is logged; the caller surfaces the first.
 * The teardown is bounded too (tearDownNodeWithin): a gateway whose stop never ends (stuck on a disk) kept the timer
 * renewing the lease until the process was killed. Its bound is its own (teardownBounds): it used to be the role
 * changes' (roleChangeWaitMsMax, over two minutes with serve's defaults, sized for a re-sync's requests to the leader),
 * all that time with the lease renewed and no node leading. It is serve's stop bound (../stop-watch.ts), on time
 * without progress: a fixed 30 s cut a leader's healthy stop whose shutdown snapshot of a large state outlasted it
 * (a million orders: 19.5 s under load), exit 1 without the snapshot.
 *
 * Each step runs at most once (onceEach), however the teardown ends: an abandoned teardown (abandonNode) used to run
 * the stop steps again from the start — the replicator stopped twice, the gateway's stop begun a second time — and the
 * stuck teardown, once its step ended, went on to clear the timer and release the lease again after that.
 */

import { GATEWAY_STOP_BOUNDS, watchStop, type StopBounds } from '../stop-watch.ts'
import { StopTimeoutError } from './role-changes.ts'

export interface TeardownStep {
  /** What the step does, for the log line of its failure ("stopping the gateway"). */
  name: string
  run: () => unknown
}

/**
 * Runs every step in order, each awaited; returns the errors they threw, in order (empty: all went through).
 * `onStep` is told each step's name as it begins.
 */
export async function tearDownAll(steps: readonly TeardownStep[], log: (line: string) => void, onStep?: (name: string) => void): Promise<unknown[]> {
  const errors: unknown[] = []
  for (const step of steps) {
    onStep?.(step.name)
    try {
      await step.run()
    } catch (error) {
      errors.push(error)
      log(`stop: ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  return errors
}

/** What stopping an HA node takes apart (HaNode.stop). */
export interface NodeParts {
  stopReplicator(): Promise<void> | undefined
  closeSync(): void
  stopGateway(): Promise<void> | undefined
  /** A leader's: waits (bounded) for its standbys to hold its closed log's last LSN (tail-handoff.ts). */
  handTail(): Promise<void> | undefined
  clearTimer(): void
  releaseLease(): void
  /** Lets go of the data dir's lock (data-dir-lock.ts): last, once nothing of the node touches the data dir. */
  releaseDataDir(): void
}

/**
 * The node's teardown, every step in this order. The timer keeps renewing a leader's lease until its gateway has
 * stopped (tick does nothing else meanwhile): a shutdown longer than the lease's remaining life (a large snapshot at
 * shutdown) would otherwise let the standby take over while this node still writes its last records, which its log
 * would then refuse (LEASE_LOST). It goes on renewing while the standby is handed the log's tail (tail-handoff.ts):
 * the lease is released once the standby holds every record, the stop's own included.
 */
export function tearDownNode(parts: NodeParts, log: (line: string) => void, onStep?: (name: string) => void): Promise<unknown[]> {
  const steps = [
    ...stopSteps(parts),
    { name: 'handing the tail to the standby', run: () => parts.handTail() },
    { name: 'clearing the timer', run: () => parts.clearTimer() },
    { name: 'releasing the lease', run: () => parts.releaseLease() },
    { name: 'releasing the data dir', run: () => parts.releaseDataDir() },
  ]
  return tearDownAll(steps, log, onStep)
}

/**
 * The teardown's bounds: serve's gateway stop's (GATEWAY_STOP_BOUNDS: cut after 30 s without progress, or at a
 * 10-minute ceiling), read when the stop begins (a spec's preload shortens them). `teardownWaitMsMax`, given, is the time
 * without progress instead (specs). Meanwhile the leader's lease is renewed and no other node can lead: the stall bound
 * is how long a stuck stop may keep the pair without a leader.
 */
export function teardownBounds(options: { teardownWaitMsMax?: number }): StopBounds {
  const stallMsMax = options.teardownWaitMsMax
  if (stallMsMax === undefined) return { ...GATEWAY_STOP_BOUNDS }
  return { ...GATEWAY_STOP_BOUNDS, stallMsMax, checkEveryMs: Math.min(GATEWAY_STOP_BOUNDS.checkEveryMs, Math.max(1, stallMsMax / 5)) }
}

/**
 * `parts` with each step made to run at most once: a second call does nothing (returns undefined) — a step already
 * done is not redone, and one still running (stuck) is not begun again. One per stop (HaNode.stop), shared by the
 * teardown and its abandonment.
 */
export function onceEach(parts: NodeParts): NodeParts {
  const once = <T>(run: () => T): (() => T | undefined) => {
    let begun = false
    return () => {
      if (begun) return undefined
      begun = true
      return run()
    }
  }
  return {
    stopReplicator: once(() => parts.stopReplicator()),
    closeSync: once(() => parts.closeSync()),
    stopGateway: once(() => parts.stopGateway()),
    handTail: once(() => parts.handTail()),
    clearTimer: once(() => parts.clearTimer()),
    releaseLease: once(() => parts.releaseLease()),
    releaseDataDir: once(() => parts.releaseDataDir()),
  }
}

/**
 * tearDownNode while it makes progress, within `bounds` (HaNode.stop gives it teardownBounds). Progress is a step begun
 * or `gatewayProgress()` changing: the node's gateway's (Gateway.stopProgress, the shutdown snapshot's slices included;
 * a standby's records applied while its replicator stops); with no gateway there is only the steps'. `parts` should run
 * each step at most once (onceEach): the abandonment below shares them. Cut, a step is stuck — a gateway whose stop
 * never ends, its disk not answering — and, the timer renewing the lease meanwhile, no other node could take over for
 * as long as the process lived: the node is abandoned (abandonNode: the lease released first, which fences the
 * gateway's log) and this rejects with StopTimeoutError naming the step; the caller should exit.
 */
export async function tearDownNodeWithin(parts: NodeParts, log: (line: string) => void, bounds: StopBounds, gatewayProgress: () => number = () => 0): Promise<unknown[]> {
  let step = 'teardown'
  let stepsBegun = 0
  let failures: unknown[] = []
  const teardown = tearDownNode(parts, log, (name) => {
    step = name
    stepsBegun++
  }).then((errors) => void (failures = errors))
  const end = await watchStop(teardown, () => stepsBegun + gatewayProgress(), bounds)
  if (end === 'stopped') return failures
  const stalled = end === 'stalled'
  const waitMsMax = stalled ? bounds.stallMsMax : bounds.ceilingMs
  log(stalled
    ? `stop: the teardown made no progress for ${waitMsMax} ms, still ${step}; releasing the lease and giving up on it`
    : `stop: the teardown was still ${step} at ${waitMsMax} ms, its ceiling; releasing the lease and giving up on it`)
  abandonNode(parts, log)
  throw new StopTimeoutError(`teardown (${step})`, waitMsMax, stalled)
}

/**
 * stop() past its bound, a role change (or the teardown) still running: the lease goes first, then the rest is only
 * begun, not waited for — the steps not begun yet, given `parts` made by onceEach (the stuck one is not begun again). What is stuck may be a gateway's stop (a takeover stopping its standby gateway): the teardown's own stop of that
 * gateway would wait on the same promise, with the timer renewing the lease all the while, so no other node could
 * ever take over. Released, the lease fences this node at once (its log refuses to write or acknowledge). The data
 * dir's lock is kept: what is stuck may still swap the data dir, and no other process may touch it until this one
 * exits (which drops the lock) — the teardown releases it only if its stuck step ends after all.
 */
export function abandonNode(parts: NodeParts, log: (line: string) => void): void {
  parts.clearTimer()
  parts.releaseLease()
  void tearDownAll(stopSteps(parts), log)
}

function stopSteps(parts: NodeParts): TeardownStep[] {
  return [
    { name: 'stopping the replicator', run: () => parts.stopReplicator() },
    { name: 'closing synchronous replication', run: () => parts.closeSync() },
    { name: 'stopping the gateway', run: () => parts.stopGateway() },
  ]
}
