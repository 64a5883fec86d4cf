/**
 * A leader of an older build writes some records at an older payload version, without members this build added since
 * (registry.ts MEMBERS_ADDED). Where the command record already carried what such a member holds, this build decides
 * the record with it: a traced place the kernel rejected was recorded as `order.rejected` version 3 without the trace,
 * though places have recorded the traceparent in their command records since version 4; this build's version 6 carries
 * it. A standby of this build (HA is upgraded standby first) or `redecide` on an older log would call that a mismatch
 * although both decided the same. So the standby's record, without the members added after the leader's version, is
 * compared with the leader's: equal, the leader decided as the standby did, and wrote what its build could.
 */

import { decodeEvent, encodeEvent, SchemaError, type DomainEvent, type EncodedEvent } from '../../domain/events/index.ts'
import { MEMBERS_ADDED } from '../../domain/events/registry.ts'

interface RecordBytes {
  type: number
  version: number
  payload: Uint8Array
}

/**
 * Whether `leader` (in this build's version already: shadow.ts inThisBuildsVersion) is the standby's `ours` as a build
 * writing `leaderVersion` wrote it: the same once ours is without the top-level members added after that version.
 */
export function differsOnlyInMembersAdded(ours: EncodedEvent, leader: RecordBytes, leaderVersion: number): boolean {
  if (ours.type !== leader.type || ours.version !== leader.version || leaderVersion >= ours.version) return false
  let event: DomainEvent
  try {
    event = decodeEvent(ours)
  } catch (error) {
    if (error instanceof SchemaError) return false
    throw error
  }
  const added = MEMBERS_ADDED[event.type]
  if (added === undefined) return false
  const later = Object.keys(added).filter((member) => !member.includes('.') && (added[member] as number) > leaderVersion && member in event)
  if (later.length === 0) return false
  const older = Object.fromEntries(Object.entries(event).filter(([member]) => !later.includes(member))) as DomainEvent
  return bytesEqual(encodeEvent(older).payload, leader.payload)
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let index = 0; index < a.byteLength; index++) if (a[index] !== b[index]) return false
  return true
}
