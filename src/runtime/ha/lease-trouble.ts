/**
 * What a node says while it cannot read (or write) the shared lease directory to take the lease: an epoch file that
 * is no lease record (LEASE_FILE_INVALID), EACCES, an NFS share gone. A follower cannot tell then whether the leader
 * lives, so it does not take over, and says so — once when the trouble begins or changes, then at most once every
 * `reminderMs` while it lasts, and once when the directory can be read again. Thrown into the role change instead,
 * every tick (ttl/4) logged the error with its stack trace.
 *
 * The line carries a typed code: the LeaseError's (`LEASE_FILE_INVALID`, …), or `LEASE_DIR_UNUSABLE` with the
 * file-system error's code for anything else the directory answered.
 */

import { LeaseError } from '../../../wal/index.ts'

/** How often a trouble that lasts is said again. */
export const LEASE_TROUBLE_REMINDER_MS = 60_000

/** The operator code and message of a failed take of the lease. */
export function leaseTroubleText(error: unknown): string {
  if (error instanceof LeaseError) return error.message
  const errno = (error as NodeJS.ErrnoException | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  return `LEASE_DIR_UNUSABLE: the lease directory answered ${errno ?? 'an error'}: ${message}`
}

export class LeaseTrouble {
  private current: { text: string; sinceMs: number; saidMs: number } | null = null

  constructor(
    private readonly log: (line: string) => void,
    private readonly monotonicNowMs: () => number = () => performance.now(),
    private readonly reminderMs = LEASE_TROUBLE_REMINDER_MS,
  ) {}

  /** This look at the lease directory failed with `error`. */
  failed(error: unknown): void {
    const text = leaseTroubleText(error)
    const nowMs = this.monotonicNowMs()
    const current = this.current
    if (current === null || current.text !== text) {
      this.current = { text, sinceMs: nowMs, saidMs: nowMs }
      this.log(`ha: ${text}; this node cannot take the lease until it can read the lease directory (said again every ${Math.round(this.reminderMs / 1000)} s while it lasts)`)
      return
    }
    if (nowMs - current.saidMs < this.reminderMs) return
    current.saidMs = nowMs
    this.log(`ha: ${text}; still, for ${Math.round((nowMs - current.sinceMs) / 1000)} s: this node cannot take the lease`)
  }

  /** This look at the lease directory succeeded. */
  cleared(): void {
    const current = this.current
    if (current === null) return
    this.current = null
    this.log(`ha: the lease directory can be read again, after ${Math.round(this.monotonicNowMs() - current.sinceMs)} ms of ${current.text.slice(0, current.text.indexOf(':'))}`)
  }
}
