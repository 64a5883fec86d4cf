/**
 * Which log records the kernel reads. Domain events use the codes of src/domain/events; codes from 0xA000 up are
 * reserved for audit records (seals, tamper findings), which the kernel does not fold into its state but which the
 * audit module reads from the same log.
 */

import { decodeEvent, type DomainEvent, type EventType } from '../domain/events/index.ts'
import { eventCode } from '../domain/events/registry.ts'
import { decodeTrustedEvent, decodeTrustedEventIn, unreadMembers } from '../domain/events/trusted-decode.ts'
import { APPLY_UNREAD_MEMBERS } from '../kernel/apply-unread.ts'
import { FrameView, type Frame } from '../../wal/index.ts'

export const AUDIT_RECORD_TYPE_MIN = 0xa000

export function isAuditRecord(type: number): boolean {
  return type >= AUDIT_RECORD_TYPE_MIN
}

/** Decodes a frame into a domain event, or returns null for an audit record. Throws SchemaError on anything else. */
export function domainEventOf(frame: Frame): DomainEvent | null {
  if (isAuditRecord(frame.type)) return null
  return decodeEvent({ type: frame.type, version: frame.version, payload: frame.payload })
}

/**
 * Restart replay (and the back office's reconcile replay of its own live log, src/backoffice/replay-ledger.ts): the
 * same as domainEventOf for a frame this program wrote and the log has CRC- and chain-checked, without re-running
 * every schema check (see src/domain/events/trusted-decode.ts). replay-verify, replication and every other reader use
 * domainEventOf.
 */
export function trustedDomainEventOf(frame: Frame): DomainEvent | null {
  if (isAuditRecord(frame.type)) return null
  return decodeTrustedEvent({ type: frame.type, version: frame.version, payload: frame.payload })
}

/**
 * A reader like trustedDomainEventOf for one consumer that never reads the members `unreadByType` lists (per record
 * type); its decoder passes over them undecoded. The events it returns are for that consumer only — not for
 * explanations or the audit, which need those members. A frame in the log reader's buffer is decoded where it lies (no
 * payload view per record).
 */
export function trustedEventReaderWithout(unreadByType: ReadonlyMap<EventType, readonly string[]>): (frame: Frame) => DomainEvent | null {
  // One lookup per frame: the unread sets by record type code, made once (unreadMembers caches per set object).
  const unreadByCode = new Map([...unreadByType].map(([type, paths]) => [eventCode(type), unreadMembers(paths)]))
  return (frame) => {
    if (isAuditRecord(frame.type)) return null
    const unread = unreadByCode.get(frame.type)
    if (frame instanceof FrameView) return decodeTrustedEventIn(frame.type, frame.version, frame.bytes, frame.payloadAt, frame.payloadEnd, unread)
    return decodeTrustedEvent({ type: frame.type, version: frame.version, payload: frame.payload }, unread)
  }
}

/** Restart replay into the kernel only: without the members apply never reads (src/kernel/apply-unread.ts). */
export const kernelReplayEventOf = trustedEventReaderWithout(APPLY_UNREAD_MEMBERS)
