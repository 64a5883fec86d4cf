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
const NODE_ID_CHARS_MAX = 128

/** A node id as `egress serve --node-id` takes it (src/cli/serve-ha.ts): 1 to 128 characters, no control characters. */
export const NODE_ID_PATTERN = /^[^\x00-\x1f\x7f]{1,128}$/

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

/**
 * How a taker named `nodeId` stands against a record's set: `member` (with the LSN it joined at), `holder` (the record's
 * own holder, taking its lease back), or `outside` (refused unless it accepts the data loss).
 */
export function membershipOf(record: { holderId: string; inSync: readonly LeaseInSyncMember[] }, nodeId: string): { kind: 'member'; joinedLsn: number } | { kind: 'holder' } | { kind: 'outside' } {
  const member = record.inSync.find((each) => each.nodeId === nodeId)
  if (member !== undefined && nodeId !== UNNAMED_STANDBY) return { kind: 'member', joinedLsn: member.joinedLsn }
  if (holderNodeIdOf(record.holderId) === nodeId) return { kind: 'holder' }
  return { kind: 'outside' }
}

/** The set a taker's new record starts with: the old one without the taker (it holds the lease now, not a member). */
export function carriedInSync(inSync: readonly LeaseInSyncMember[] | undefined, takerNodeId: string | undefined): LeaseInSyncMember[] | undefined {
  if (inSync === undefined) return undefined
  return inSync.filter((member) => member.nodeId !== takerNodeId).map((member) => ({ ...member }))
}
