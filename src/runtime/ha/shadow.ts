/**
 * Shadow mode on a standby: every command record the leader wrote (command-record.ts) is decided again with the pure
 * kernel on the standby's own state — which, since the record comes before its events, is the state the leader
 * decided on — and the events it computes are compared, as canonical record bytes (type, version, payload), with the
 * events the leader logged after it. Nothing is sent and nothing is applied from the standby's own decision: the
 * leader's events stay authoritative and are applied as they are. A mismatch means the two nodes would not act alike
 * after a failover (a different build, config or kernel input); it is counted and the last few are kept with the LSN,
 * the command kind and the first difference.
 *
 * An HA pair is upgraded standby first, so for a while the leader writes an older schema version of some events
 * than the standby would (version 2 payloads against this build's 3). Such a record is read and written again in
 * this build's version before the comparison: what is compared is what the leader decided, not how its build spelled
 * it. A record this build cannot read (a newer version: a leader upgraded first) stays as it is and is a mismatch
 * naming both versions.
 *
 * A decision's events may reach the standby in more than one envelope, so the comparison is kept open across
 * `applyReplicated` calls until the record's `eventCount` events have been seen.
 *
 * One record is compared by what it does rather than by its presence: an `order.limit_loosest` that leaves the
 * order's loosest limit as it was. The build before this one logged one after every applied limit amend; this one only when
 * the amend moves the limit (kernel/amend/evidence.ts). Such a leader record, checked against the state the leader's
 * earlier events of the same decision left (its events are applied one by one after this sees each), changes nothing
 * the kernel decides by — the order's limitLoosest is what it was, and its update time is the amend's, in the same
 * decision — so it is left out of the comparison: a log of the build before (a leader not yet upgraded, or `redecide`
 * on an older log) matches, while a record that moves the limit, missing or extra or different, is still a mismatch.
 *
 * And one is compared by what it says rather than how: a record whose `detail` the build before wrote with amounts in
 * internal units where this one writes decimals (shadow-units-detail.ts) is taken as the standby's when nothing else
 * differs and its detail reads as the standby's with those integers read as units. Likewise a record of an older
 * version that lacks only members added since, which the command record held (shadow-older-members.ts: a traced
 * rejection's order.rejected written at version 3, without the trace).
 */

import { decodeEvent, encodeEvent, EVENT_CODES, EVENT_VERSIONS, eventTypeForCode, recordBodyOf, SchemaError, type DomainEvent, type EncodedEvent } from '../../domain/events/index.ts'
import { decide as kernelDecide, type Decision, type KernelCommand, type KernelState } from '../../kernel/index.ts'
import type { Frame } from '../../../wal/index.ts'
import { CommandRecordError, decodeCommandRecord } from './command-record.ts'
import { differsOnlyInMembersAdded } from './shadow-older-members.ts'
import { differsOnlyInUnitsDetail } from './shadow-units-detail.ts'

export const SHADOW_MISMATCHES_KEPT = 16

export interface ShadowMismatch {
  /** LSN of the command record. */
  lsn: number
  /** The command's kind, or null when the record itself did not decode. */
  kind: string | null
  /** The first difference, in words (event index, types, first differing member). */
  difference: string
}

/** `ha.shadow` in /health, its keys in snake_case (status-json.ts). */
export interface ShadowStats {
  /** Command records decided again on this node. */
  decisions: number
  matches: number
  mismatches: number
  /** Events the leader logged with no command record before them (a leader not writing command records). */
  eventsWithoutCommand: number
  lastMismatches: ShadowMismatch[]
}

interface OpenComparison {
  lsn: number
  kind: string | null
  expected: LoggedRecord[]
  leaderCount: number
  /** The leader's events seen so far, those left out of the comparison included. */
  leaderSeen: number
  leader: LoggedRecord[]
  /** The payload version each of `leader` was logged at (before inThisBuildsVersion). */
  leaderVersions: number[]
  /** Set when the standby could not decide at all (undecodable record, kernel threw). */
  failure: string | null
}

interface LoggedRecord {
  type: number
  version: number
  payload: Uint8Array
}

export type DecideFunction = (state: KernelState, command: KernelCommand) => Decision

export class ShadowDecider {
  private readonly decide: DecideFunction
  private open: OpenComparison | null = null
  private readonly counts = { decisions: 0, matches: 0, mismatches: 0, eventsWithoutCommand: 0 }
  private readonly recent: ShadowMismatch[] = []

  /** `decide` is the kernel's; a spec may pass another to show that a different decision is caught. */
  constructor(options: { decide?: DecideFunction } = {}) {
    this.decide = options.decide ?? kernelDecide
  }

  get stats(): ShadowStats {
    return { ...this.counts, lastMismatches: this.recent.map((mismatch) => ({ ...mismatch })) }
  }

  /** A command record, seen before any of its events is applied: decide it on `state` (not changed). */
  command(frame: Frame, state: KernelState): void {
    if (this.open !== null) this.close(`the leader logged ${this.open.leaderSeen} of ${this.open.leaderCount} events before the next command record`)
    this.counts.decisions++
    try {
      const { command, eventCount } = decodeCommandRecord(frame)
      this.open = { lsn: frame.lsn, kind: command.kind, expected: [], leaderCount: eventCount, leaderSeen: 0, leader: [], leaderVersions: [], failure: null }
      try {
        this.open.expected = this.decide(state, command).events.map((event) => encodeEvent(event))
      } catch (error) {
        this.open.failure = `the standby's kernel threw: ${error instanceof Error ? error.message : String(error)}`
      }
    } catch (error) {
      if (!(error instanceof CommandRecordError)) throw error
      this.open = { lsn: frame.lsn, kind: null, expected: [], leaderCount: 0, leaderSeen: 0, leader: [], leaderVersions: [], failure: `${error.code}: ${error.message}` }
      this.close(null)
    }
  }

  /** A domain event frame the leader logged, before it is applied to `state` (which holds the ones before it). */
  event(frame: Frame, state: KernelState): void {
    const open = this.open
    if (open === null) {
      this.counts.eventsWithoutCommand++
      return
    }
    open.leaderSeen++
    if (!leavesLoosestAsItWas(frame, state)) {
      open.leader.push(inThisBuildsVersion({ type: frame.type, version: frame.version, payload: frame.payload.slice() }))
      open.leaderVersions.push(frame.version)
    }
    if (open.leaderSeen === open.leaderCount) this.close(null)
  }

  private close(incomplete: string | null): void {
    const open = this.open
    this.open = null
    if (open === null) return
    const leader = open.leader.map((record, index) => {
      const ours = open.expected[index]
      if (ours === undefined || bytesEqual(ours.payload, record.payload)) return record
      // An older leader's detail in units, or its record without members its build did not write (shadow-older-members.ts).
      return differsOnlyInUnitsDetail(ours, record) || differsOnlyInMembersAdded(ours, record, open.leaderVersions[index] ?? record.version) ? ours : record
    })
    const difference = open.failure ?? incomplete ?? firstDifference(open.expected, leader)
    if (difference === null) {
      this.counts.matches++
      return
    }
    this.counts.mismatches++
    this.recent.push({ lsn: open.lsn, kind: open.kind, difference })
    if (this.recent.length > SHADOW_MISMATCHES_KEPT) this.recent.shift()
  }
}

const LIMIT_LOOSEST_CODE = EVENT_CODES['order.limit_loosest']

/**
 * Whether the frame is an `order.limit_loosest` that sets the order's loosest limit to what `state` holds already, at
 * the time of the order's last event (see the top of this file). A record that does not decode is not one: it stays in
 * the comparison, which reports it.
 */
function leavesLoosestAsItWas(frame: Frame, state: KernelState): boolean {
  if (frame.type !== LIMIT_LOOSEST_CODE) return false
  let event: DomainEvent
  try {
    event = decodeEvent({ type: frame.type, version: frame.version, payload: frame.payload })
  } catch (error) {
    if (error instanceof SchemaError) return false
    throw error
  }
  if (event.type !== 'order.limit_loosest') return false
  const order = state.orders.get(event.orderId)
  // At the instant of the order's last event (the amend's): applying it moves neither the order's update time nor,
  // at an instant the retirement walk has already run at, any order's retirement.
  return order !== undefined && order.limitLoosest !== null && order.limitLoosest === event.limit && order.updatedAtMs === event.atMs
}

/**
 * A leader record of an older schema version than this build writes, as this build writes the same event (decoded,
 * validated and upgraded like any older record, then encoded again); any other record as it is. A record that does
 * not decode stays as it is, so the comparison reports it.
 */
function inThisBuildsVersion(record: LoggedRecord): LoggedRecord {
  const name = eventTypeForCode(record.type)
  if (name === null || record.version >= EVENT_VERSIONS[name]) return record
  try {
    return encodeEvent(decodeEvent(record))
  } catch (error) {
    if (error instanceof SchemaError) return record
    throw error
  }
}

/** Null when both lists hold the same records byte for byte; else where they first differ. */
export function firstDifference(standby: readonly LoggedRecord[], leader: readonly LoggedRecord[]): string | null {
  const count = Math.max(standby.length, leader.length)
  for (let index = 0; index < count; index++) {
    const ours = standby[index]
    const theirs = leader[index]
    if (ours === undefined || theirs === undefined) {
      return `event ${index}: ${ours === undefined ? 'none' : `type 0x${ours.type.toString(16)}`} on the standby, ${theirs === undefined ? 'none' : `type 0x${theirs.type.toString(16)}`} on the leader (standby ${standby.length} events, leader ${leader.length})`
    }
    if (ours.type !== theirs.type || ours.version !== theirs.version) {
      return `event ${index}: type 0x${ours.type.toString(16)} v${ours.version} on the standby, 0x${theirs.type.toString(16)} v${theirs.version} on the leader`
    }
    if (!bytesEqual(ours.payload, theirs.payload)) return `event ${index} (type 0x${ours.type.toString(16)}): ${payloadDifference(ours, theirs)}`
  }
  return null
}

function payloadDifference(oursRecord: EncodedEvent, theirsRecord: EncodedEvent): string {
  const ours = oursRecord.payload
  const theirs = theirsRecord.payload
  try {
    const a = recordBodyOf(oursRecord) as unknown
    const b = recordBodyOf(theirsRecord) as unknown
    const path = firstPath(a, b, '')
    if (path !== null) return `member ${path.path}: ${clip(path.ours)} on the standby, ${clip(path.theirs)} on the leader`
  } catch {
    // fall through to a byte offset
  }
  let offset = 0
  while (offset < ours.byteLength && ours[offset] === theirs[offset]) offset++
  return `payloads differ from byte ${offset}`
}

function firstPath(ours: unknown, theirs: unknown, path: string): { path: string; ours: string; theirs: string } | null {
  if (typeof ours === 'object' && ours !== null && typeof theirs === 'object' && theirs !== null) {
    const keys = [...new Set([...Object.keys(ours), ...Object.keys(theirs)])].sort()
    for (const key of keys) {
      const found = firstPath((ours as { [key: string]: unknown })[key], (theirs as { [key: string]: unknown })[key], path === '' ? key : `${path}.${key}`)
      if (found !== null) return found
    }
    return null
  }
  const a = JSON.stringify(ours) ?? 'absent'
  const b = JSON.stringify(theirs) ?? 'absent'
  return a === b ? null : { path: path === '' ? '(root)' : path, ours: a, theirs: b }
}

function clip(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 77)}...`
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let index = 0; index < a.byteLength; index++) if (a[index] !== b[index]) return false
  return true
}
