/**
 * Readers of a running gateway's segment files that compaction must leave alone while they read: the live full
 * verification (GET /v1/audit/verify) scans the log directory itself, independently of the Wal, and a segment removed
 * under it failed the whole request (a segment file gone mid-scan: an opaque 500). Each reader holds the log from an
 * LSN for as long as it reads; compaction keeps every segment holding that LSN or a later one, and a compaction
 * already under way re-reads the floor before each removal (compact-turns.ts), so a hold taken between two of its
 * turns stops it where it is. Runtime only: nothing is logged.
 */

export class LogHolds {
  private readonly fromLsns = new Map<number, number>()
  private nextId = 1

  /** Holds the log from `fromLsn` on; the returned function lets it go (idempotent). */
  hold(fromLsn: number): () => void {
    const id = this.nextId++
    this.fromLsns.set(id, fromLsn)
    return () => void this.fromLsns.delete(id)
  }

  /** The lowest LSN a holder still needs, or +Infinity with no hold. */
  get floorLsn(): number {
    let floor = Number.POSITIVE_INFINITY
    for (const lsn of this.fromLsns.values()) floor = Math.min(floor, lsn)
    return floor
  }

  get size(): number {
    return this.fromLsns.size
  }
}
