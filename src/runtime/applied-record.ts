/**
 * One event of a decision as the engine logs and applies it (engine.ts): the log's record (encodeEvent's type, version
 * and payload) and the durable listeners' applied event (the event at its LSN) in one object, where a record and a
 * pair were two per event.
 */

import { eventEncoderOf, type DomainEvent } from '../domain/events/index.ts'
import type { RecordInput } from '../../wal/index.ts'
import type { AppliedEvent } from './engine-types.ts'

export class AppliedRecord implements RecordInput, AppliedEvent {
  readonly type: number
  readonly version: number
  readonly payload: Uint8Array
  readonly event: DomainEvent
  /** Set by the engine when it reserves the decision's LSNs, before the event is applied. */
  lsn = 0

  /** Encodes `event` as encodeEvent does (same bytes); throws what it throws. */
  constructor(event: DomainEvent) {
    const encoder = eventEncoderOf(event)
    this.type = encoder.code
    this.version = encoder.version
    this.payload = encoder.write(event)
    this.event = event
  }
}
