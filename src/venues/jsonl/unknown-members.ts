/**
 * Says once per connection which members of a venue's price entries this client does not read (price-entry.ts): a
 * venue newer than the client, whose prices are still read. Bounded: a venue sending ever new member names (a broken
 * or hostile one) is named UNKNOWN_MEMBERS_NAMED_MAX of them, and then one line saying the rest are not.
 */

import { truncateDetail } from '../../domain/venue-report-schema.ts'

/** Distinct unknown member paths remembered (and named) per connection at most. */
export const UNKNOWN_MEMBERS_NAMED_MAX = 32

export const UNKNOWN_MEMBERS_LOG_CODE = 'VENUE_MEMBERS_UNKNOWN'

export class UnknownMembersNotice {
  private readonly named = new Set<string>()
  private full = false

  /** A new connection: its venue may be another build, so its members are named afresh. */
  reset(): void {
    this.named.clear()
    this.full = false
  }

  /** The log line for the paths not named yet on this connection, or null when there are none. */
  lineFor(paths: readonly string[]): string | null {
    if (this.full) return null
    const fresh = [...new Set(paths)].filter((path) => !this.named.has(path))
    if (fresh.length === 0) return null
    const room = UNKNOWN_MEMBERS_NAMED_MAX - this.named.size
    const kept = fresh.slice(0, room)
    for (const path of kept) this.named.add(path)
    let tail = ''
    if (fresh.length > room) {
      this.full = true
      tail = ` (past ${UNKNOWN_MEMBERS_NAMED_MAX} on this connection, the rest unnamed)`
    }
    // The names last: a long one is what the bound on a log line's length cuts, never what the line says.
    return truncateDetail(`${UNKNOWN_MEMBERS_LOG_CODE}: prices read without members this client does not know (a newer venue?)${tail}: ${kept.map((path) => JSON.stringify(path)).join(', ')}`)
  }
}
