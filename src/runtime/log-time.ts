/**
 * The latest time a log holds: the largest `atMs` among its last domain events. A restarted gateway (or a standby
 * taking over) never stamps a decision before it (Clock.notBefore), so event times stay ordered across a restart even
 * when the wall clock was stepped back meanwhile (an NTP correction, an operator, a host whose clock runs behind the
 * old leader's). The kernel reads them as ordered: retirement waits for an order's own last event time and for the
 * grace since an end, and bootstrap measures an unsent order's age from its acceptance.
 */

import type { Clock } from '../domain/clock.ts'
import { domainEventOf } from './records.ts'
import type { Wal } from '../../wal/index.ts'

/** How far the clock may be behind the log's latest event at a start before it is reported (onError). */
const CLOCK_BEHIND_LOG_MS_MAX = 1_000

/** How many frames are read per step back from the head until one holds a domain event. */
const WINDOW_FRAMES = 256

/** The largest atMs among the domain events of the last window that holds any; null for a log without one. */
export function latestEventAtMs(wal: Pick<Wal, 'firstLsn' | 'lastLsn' | 'read'>): number | null {
  for (let toLsn = wal.lastLsn; toLsn >= wal.firstLsn && toLsn > 0; toLsn -= WINDOW_FRAMES) {
    const fromLsn = Math.max(wal.firstLsn, toLsn - WINDOW_FRAMES + 1)
    let latestMs: number | null = null
    for (const frame of wal.read(fromLsn, { toLsn })) {
      const event = domainEventOf(frame)
      if (event !== null && (latestMs === null || event.atMs > latestMs)) latestMs = event.atMs
    }
    if (latestMs !== null) return latestMs
  }
  return null
}

/**
 * At a start: decisions are never stamped before the log's latest event. Behind a wall clock stepped back across the
 * restart, time runs on from the log's (src/runtime/clock.ts), and it is said out loud: the host's clock needs
 * looking at.
 */
export function holdClockToLog(wal: Pick<Wal, 'firstLsn' | 'lastLsn' | 'read'>, clock: Clock, onError: (error: unknown, context: string) => void): void {
  const latestMs = latestEventAtMs(wal)
  if (latestMs === null) return
  const behindMs = latestMs - clock.nowMs()
  if (behindMs > CLOCK_BEHIND_LOG_MS_MAX) {
    onError(new Error(`the clock is ${behindMs} ms behind the latest event in the log; time runs on from the log's until the clock catches up`), 'clock behind the log')
  }
  clock.notBefore?.(latestMs)
}
