/**
 * A leader's in-sync set for one term (synchronous replication, sync.ts): which standbys' acknowledgements its answers
 * wait for, kept in the lease record (wal/lease-in-sync.ts) so that no other node takes over claiming to hold what was
 * acknowledged.
 *
 * The rules, and why:
 * - Every answer waits for every member (`heldByAll`: the least LSN the members acknowledged), not for the first
 *   standby to acknowledge: a member may take over, so each must hold everything answered.
 * - A node joins once it is caught up (it acknowledged everything the log held when it first acknowledged, and what
 *   was already answered): it is wanted in the set, and from that moment it counts as a member for `heldByAll` (no
 *   answer passes it). Its acknowledgements may release answers only once a lease record naming it is durable
 *   (`written`): before, the set as the lease holds it (`durable`) is what a taker is judged by.
 * - A member that falls out (silent for the sync timeout, or behind a write that waited the timeout: `out`) leaves the
 *   wanted set only while another wanted member is live: the remaining members cover every answer. The last one is
 *   kept (answers stop under fail_closed; under degrade_async they go on unwaited, on record, as before): it holds
 *   everything answered, and dropping it would leave no node but the leader allowed to take over. A member leaving
 *   still holds answers back (`heldByAll`) until the record without it is durable.
 * - A node acknowledging less than it did before this term (`went_back`: restarted on an older copy of its data
 *   directory under the same node id) lost records it had acknowledged as durable: it falls out like a laggard, and
 *   its acknowledged LSN is the new, lower one — the old one never counts again (it would pass answers the node no
 *   longer holds). It comes back only the way any node joins: caught up, and written into the record. Not the unnamed
 *   member (below): several standbys may acknowledge under it, each its own log's end.
 * - Nodes are named by their acknowledgements (`POST /replication/ack` `node_id`); acknowledgements that name none
 *   (a standby build before node ids, during a rolling upgrade) count as one member, UNNAMED_STANDBY.
 * - At most IN_SYNC_MEMBERS_MAX nodes are tracked; a node silent for the timeout and in no set is forgotten.
 */

import { IN_SYNC_MEMBERS_MAX, UNNAMED_STANDBY, type LeaseInSyncMember } from '../../../wal/index.ts'

/** `/health` → `ha.sync.in_sync[]`. */
export type InSyncMemberJson = {
  /** null: the standbys too old to name their node (one member for all of them). */
  node_id: string | null
  joined_lsn: number
  /** The LSN it last acknowledged holding durably this term (0: none yet). */
  durable_lsn: number
  /** Acknowledging within the timeout and caught up. */
  live: boolean
  /** member: in the lease record; joining: to be written in (already waited for); leaving: to be written out. */
  state: 'member' | 'joining' | 'leaving'
}

/**
 * What an acknowledgement did: `untracked` (IN_SYNC_MEMBERS_MAX other nodes are tracked), `counted`, or `went_back`
 * (below `previousLsn`, the node's last acknowledgement this term: it fell out, see the rules above).
 */
export type TrackResult = { kind: 'untracked' } | { kind: 'counted' } | { kind: 'went_back'; previousLsn: number }

interface NodeAcks {
  ackedLsn: number
  lastAckAtMs: number
  live: boolean
  /** While not live: the LSN it must acknowledge to be caught up (the leader's end at its first acknowledgement). */
  catchUpLsn: number | null
}

export class InSyncSet {
  private readonly nodes = new Map<string, NodeAcks>()
  /** The set as the lease record holds it durably: nodeId → joined LSN. */
  private durable: Map<string, number>
  /** The set the leader wants written. */
  private readonly wanted: Map<string, number>
  /**
   * The node ids of the set last handed to `publish` (at first the carried one, which the record holds): the lease's
   * next renewal writes that set, so a wanted set that differs from it is handed again — also when it went back to the
   * durable one (a node that joined and fell out before the record naming it was written).
   */
  private handed: ReadonlySet<string>

  constructor(
    carried: readonly LeaseInSyncMember[],
    /** Writes the wanted set into the lease record (a renewal); null: there is no lease, a set is durable at once. */
    private readonly publish: ((members: LeaseInSyncMember[]) => void) | null,
  ) {
    this.durable = new Map(carried.map((member) => [member.nodeId, member.joinedLsn]))
    this.wanted = new Map(this.durable)
    this.handed = new Set(this.durable.keys())
  }

  /** An acknowledgement of `nodeId` up to `lsn` (see TrackResult). */
  track(nodeId: string, lsn: number, nowMs: number, leaderLastLsn: number): TrackResult {
    let acks = this.nodes.get(nodeId)
    if (acks === undefined) {
      if (this.nodes.size >= IN_SYNC_MEMBERS_MAX) return { kind: 'untracked' }
      acks = { ackedLsn: 0, lastAckAtMs: nowMs, live: false, catchUpLsn: null }
      this.nodes.set(nodeId, acks)
    }
    acks.lastAckAtMs = nowMs
    const previousLsn = acks.ackedLsn
    // A standby sends one acknowledgement at a time, its log's end, which only grows while the process lives: a lower
    // one is a node that lost what it had acknowledged. Out, and held to what it holds now (never to the old LSN). An
    // acknowledgement the standby gave up on (timed out) yet reaching the leader after its successor would look the
    // same: the node then falls out and joins again at once (a brief `down` if it was the last member) — the safe side.
    // Not for the unnamed member: it may be several standbys of the build before node ids, each acknowledging its own
    // log's end (which only went back when one lost records; that case stays as open as before node ids).
    const wentBack = lsn < previousLsn && nodeId !== UNNAMED_STANDBY
    if (wentBack) {
      this.fallOut(acks)
      acks.catchUpLsn = Math.max(leaderLastLsn, previousLsn)
    }
    acks.ackedLsn = wentBack ? lsn : Math.max(lsn, previousLsn)
    if (!acks.live) {
      acks.catchUpLsn ??= leaderLastLsn
      if (acks.ackedLsn >= acks.catchUpLsn) {
        acks.live = true
        acks.catchUpLsn = null
      }
    }
    return wentBack ? { kind: 'went_back', previousLsn } : { kind: 'counted' }
  }

  /** Nodes silent for longer than `timeoutMs` are out; those in no set are forgotten. Returns the ones that fell out. */
  silent(nowMs: number, timeoutMs: number): string[] {
    const fell: string[] = []
    for (const [nodeId, acks] of this.nodes) {
      if (nowMs - acks.lastAckAtMs <= timeoutMs) continue
      if (acks.live) fell.push(nodeId)
      this.fallOut(acks)
      if (!this.wanted.has(nodeId) && !this.durable.has(nodeId)) this.nodes.delete(nodeId)
    }
    return fell
  }

  /** A write at `lsn` waited the timeout: the wanted members that had not acknowledged it are out. Returns them. */
  lagging(lsn: number): string[] {
    const fell: string[] = []
    for (const nodeId of this.wanted.keys()) {
      const acks = this.nodes.get(nodeId)
      if (acks !== undefined && acks.ackedLsn >= lsn) continue
      if (acks?.live === true) fell.push(nodeId)
      if (acks !== undefined) this.fallOut(acks)
    }
    return fell
  }

  private fallOut(acks: NodeAcks): void {
    acks.live = false
    acks.catchUpLsn = null
  }

  /**
   * The LSN every member holds — of the durable set and the wanted one, so neither a node joining nor one leaving is
   * passed — or null while the lease names no member (nothing may be released: no other node is known to hold it).
   */
  heldByAll(): number | null {
    if (this.durable.size === 0) return null
    let held = Number.POSITIVE_INFINITY
    for (const nodeId of new Set([...this.durable.keys(), ...this.wanted.keys()])) held = Math.min(held, this.nodes.get(nodeId)?.ackedLsn ?? 0)
    return held
  }

  /**
   * Joins the caught-up nodes that hold everything released (`releasedLsn`), drops the members that fell out while
   * another wanted member is live, and hands a changed set to `publish` (or, without a lease, makes it durable).
   */
  reconcile(releasedLsn: number): void {
    let changed = false
    for (const [nodeId, acks] of this.nodes) {
      if (!this.wanted.has(nodeId) && acks.live && acks.ackedLsn >= releasedLsn && this.wanted.size < IN_SYNC_MEMBERS_MAX) {
        this.wanted.set(nodeId, acks.ackedLsn)
        changed = true
      }
    }
    const live = [...this.wanted.keys()].filter((nodeId) => this.nodes.get(nodeId)?.live === true)
    if (live.length > 0) {
      for (const nodeId of [...this.wanted.keys()]) {
        if (this.nodes.get(nodeId)?.live !== true) {
          this.wanted.delete(nodeId)
          changed = true
        }
      }
    }
    if (!changed && sameIds(this.wanted, this.handed)) return
    this.handed = new Set(this.wanted.keys())
    if (this.publish === null) this.durable = new Map(this.wanted)
    else this.publish(this.wantedMembers())
  }

  /** A lease record holding `members` is durable (a renewal succeeded). */
  written(members: readonly LeaseInSyncMember[]): void {
    this.durable = new Map(members.map((member) => [member.nodeId, member.joinedLsn]))
    // A record other than the set last handed (a renewal already writing off the loop when the set was handed wrote
    // the one before; the renewal queued behind it writes the new one): hand the wanted set again.
    if (!sameIds(this.durable, this.handed)) this.handed = new Set(this.durable.keys())
  }

  /** In sync: the lease names a wanted member, and every wanted member is live. */
  inSync(): boolean {
    const wanted = [...this.wanted.keys()]
    return wanted.some((nodeId) => this.durable.has(nodeId)) && wanted.every((nodeId) => this.nodes.get(nodeId)?.live === true)
  }

  /** The highest LSN any node acknowledged (what a leader without a set, `off`, reports). */
  highestAcked(): number {
    let highest = 0
    for (const acks of this.nodes.values()) highest = Math.max(highest, acks.ackedLsn)
    return highest
  }

  /** Each node that acknowledged within `withinMs` of `nowMs`, with the LSN it acknowledged. */
  acknowledgedWithin(nowMs: number, withinMs: number): Map<string, number> {
    const recent = new Map<string, number>()
    for (const [nodeId, acks] of this.nodes) if (nowMs - acks.lastAckAtMs <= withinMs) recent.set(nodeId, acks.ackedLsn)
    return recent
  }

  /** The LSN `nodeId` acknowledged last this term (0: none, or forgotten). */
  ackedBy(nodeId: string): number {
    return this.nodes.get(nodeId)?.ackedLsn ?? 0
  }

  status(): InSyncMemberJson[] {
    const ids = new Set([...this.durable.keys(), ...this.wanted.keys()])
    return [...ids].map((nodeId) => {
      const acks = this.nodes.get(nodeId)
      const state = !this.durable.has(nodeId) ? 'joining' : this.wanted.has(nodeId) ? 'member' : 'leaving'
      return { node_id: nodeId === UNNAMED_STANDBY ? null : nodeId, joined_lsn: this.wanted.get(nodeId) ?? this.durable.get(nodeId) ?? 0, durable_lsn: acks?.ackedLsn ?? 0, live: acks?.live === true, state }
    })
  }

  private wantedMembers(): LeaseInSyncMember[] {
    return [...this.wanted].map(([nodeId, joinedLsn]) => ({ nodeId, joinedLsn }))
  }
}

function sameIds(set: ReadonlyMap<string, number>, ids: ReadonlySet<string>): boolean {
  if (set.size !== ids.size) return false
  for (const nodeId of set.keys()) if (!ids.has(nodeId)) return false
  return true
}
