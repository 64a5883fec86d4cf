/**
 * Spec support: a log whose queue fills (the disk is slow and a burst came): flushes held until released, and the
 * queue filled with records that are not commands.
 */

import { syncTransitionRecord } from '../../src/runtime/ha/records.ts'
import type { World } from './harness.ts'

/** Log flushes that wait while `held` is true (the disk is slow); released in order by `release`. */
export function heldFlushes(): { schedule: (flush: () => void) => void; held: boolean; release: () => void } {
  const waiting: (() => void)[] = []
  const flushes = {
    held: false,
    schedule: (flush: () => void) => (flushes.held ? void waiting.push(flush) : queueMicrotask(flush)),
    release: () => {
      flushes.held = false
      for (const flush of waiting.splice(0)) flush()
    },
  }
  return flushes
}

/** Queues records that are not commands until the log has no room for another: what a burst of orders does. */
export function fillLogQueue(world: World): Promise<unknown>[] {
  const { engine } = world.gateway
  const appended: Promise<unknown>[] = []
  const record = () => syncTransitionRecord({ state: 'down', reason: 'spec', atMs: world.clock.nowMs(), standbyDurableLsn: 0, leaderLastLsn: 0, policy: 'degrade_async' })
  while (engine.wal.hasRoomFor(1, record().payload.byteLength)) appended.push(engine.appendRecords([record()]))
  return appended
}
