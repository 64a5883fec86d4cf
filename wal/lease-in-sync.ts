/**
 * The in-sync set of a lease record (wal/lease.ts `inSync`): the nodes whose acknowledgements the holder waits for
 * before answering under synchronous replication (src/runtime/ha/sync.ts), each with the LSN it joined at.
 *
 * Why it is in the lease: the record's log floor (`replicatedLsn`) is at most one renewal old, so a node whose log ends
 * between the floor and what was truly acknowledged (a second, lagging standby; a node started from an old copy) passed
 * the floor and could take over, losing acknowledged orders. The holder writes a node into this set durably before that
 * node's acknowledgements may release an answer, and every answer waits for every member, so each member holds
 * everything acknowledged. A taker that is neither a member nor the record's holder is refused (LEASE_NOT_IN_SYNC,
 * wal/lease-floor.ts); a member is still held to the floor and to the LSN it joined at.
 *
 * The holder is no member of its own set: its log holds everything it acknowledged (it wrote before answering), so it
 * may take its own lease back after a restart (still held to the floor). Its node id is the holder id's text before
 * the last space (HA holder ids are `<node id> <advertised URL>`, src/runtime/ha/lease-dir.ts).
 *
 * The previous holder (`previousHolder` in the record: the holder of the record its holder took over from) is allowed
 * too, but only while the set is empty. A set that stayed empty through a term means no node ever joined it (the last
 * member is never written out, in-sync.ts), so under fail_closed that term released no answer and sent no venue
 * place or amend (sync.ts: with no member in the lease nothing counts as replicated); under degrade_async its answers
 * went out unconfirmed, on record, as accepted. The previous holder's log then holds everything acknowledged: all of
 * its own term, and what its own takeover was judged to hold — as long as it reaches the floor, which the last member
 * taking over sets to its own log end (wal/lease-floor.ts): the old floor is at most one renewal old, and the previous
 * holder's log may have been set aside and re-synced from scratch since. Without this, a two-node pair whose standby took over
 * (carrying an empty set: it was the only member) and died before the old leader rejoined had no node left that could
 * lead without --accept-data-loss. While the set names a member, that member may hold answers the previous holder
 * lacks, and it is refused like any outsider.
 *
 * UNNAMED_STANDBY ('', no node id is empty) stands for every standby of a build before node ids in acknowledgements
 * (a rolling upgrade): together they count as one member. Such a standby's own takeover does not read the set (its
 * build predates it) and is judged by the floor alone, as before.
 */

/** One member: its node id (UNNAMED_STANDBY for a standby too old to name itself) and the LSN it joined the set at. */
export interface LeaseInSyncMember {
  nodeId: string
  joinedLsn: number
}

/** The acknowledgements of standbys too old to name their node count as one member of this id. */
export const UNNAMED_STANDBY = ''

/** Members a record holds at most (a leader tracks no more standbys than this, src/runtime/ha/in-sync.ts). */
export const IN_SYNC_MEMBERS_MAX = 16

/** Node ids are 1–128 characters (egress serve --node-id); the unnamed member is ''. */
export const NODE_ID_CHARS_MAX = 128

/** A node id as `egress serve --node-id` takes it (src/cli/serve-ha-flags.ts): 1 to 128 characters, no control characters. */
export const NODE_ID_PATTERN = new RegExp(`^[^\\x00-\\x1f\\x7f]{1,${NODE_ID_CHARS_MAX}}$`)

/** Whether `value` is a record's in-sync set (a record whose set is malformed is no lease record: LEASE_FILE_INVALID). */
export function isInSyncSet(value: unknown): value is LeaseInSyncMember[] {
  if (!Array.isArray(value) || value.length > IN_SYNC_MEMBERS_MAX) return false
  return value.every((member: unknown) => {
    if (typeof member !== 'object' || member === null) return false
    const { nodeId, joinedLsn } = member as Record<string, unknown>
    return typeof nodeId === 'string' && nodeId.length <= NODE_ID_CHARS_MAX && Number.isSafeInteger(joinedLsn) && (joinedLsn as number) >= 0
  })
}

/** The node id in an HA holder id (`<node id> <url>`: the id may hold spaces, the URL does not); the whole id without one. */
export function holderNodeIdOf(holderId: string): string {
  const at = holderId.lastIndexOf(' ')
  return at < 0 ? holderId : holderId.slice(0, at)
}

/** Whether `value` is a record's previous holder: a node id as a holder id carries it (a record otherwise is no lease record). */
export function isPreviousHolder(value: unknown): value is string {
  return typeof value === 'string' && value.length <= NODE_ID_CHARS_MAX
}

/** A record's in-sync set and the holders it names (wal/lease.ts LeaseRecord). */
interface SetRecord {
  holderId: string
  inSync: readonly LeaseInSyncMember[]
  previousHolder?: string
}

/**
 * How a taker named `nodeId` stands against a record's set: `member` (with the LSN it joined at), `holder` (the record's
 * own holder, taking its lease back), `previous_holder` (the holder before it, while the set is empty: see the file
 * comment), or `outside` (refused unless it accepts the data loss).
 */
export function membershipOf(record: SetRecord, nodeId: string): { kind: 'member'; joinedLsn: number } | { kind: 'holder' } | { kind: 'previous_holder' } | { kind: 'outside' } {
  const member = record.inSync.find((each) => each.nodeId === nodeId)
  if (member !== undefined && nodeId !== UNNAMED_STANDBY) return { kind: 'member', joinedLsn: member.joinedLsn }
  if (holderNodeIdOf(record.holderId) === nodeId) return { kind: 'holder' }
  if (record.inSync.length === 0 && record.previousHolder === nodeId && nodeId !== UNNAMED_STANDBY) return { kind: 'previous_holder' }
  return { kind: 'outside' }
}

/**
 * The previous holder a taker's new record names: the holder of the record it takes over from. A holder taking its own
 * lease back while the set is empty keeps the record's previous holder instead: its own term answered nothing that node
 * lacks either (an empty set), so a restart of the holder does not shut that node out. Undefined: the record names no
 * holder a node id could match (an id longer than any node id, from a caller outside HA).
 */
export function nextPreviousHolder(record: { holderId: string; inSync?: readonly LeaseInSyncMember[]; previousHolder?: string }, takerNodeId: string | undefined): string | undefined {
  const holder = holderNodeIdOf(record.holderId)
  const kept = holder === takerNodeId && record.inSync?.length === 0 ? record.previousHolder : undefined
  const named = kept ?? holder
  return isPreviousHolder(named) ? named : undefined
}

/** The set a taker's new record starts with: the old one without the taker (it holds the lease now, not a member). */
export function carriedInSync(inSync: readonly LeaseInSyncMember[] | undefined, takerNodeId: string | undefined): LeaseInSyncMember[] | undefined {
  if (inSync === undefined) return undefined
  return inSync.filter((member) => member.nodeId !== takerNodeId).map((member) => ({ ...member }))
}
