/**
 * The writable log's checks of what is offered to it (Wal.appendOwn, Wal.appendFrames), made before anything is
 * queued: a bad record, a replicated chunk too big for a batch, a full queue. A refusal writes nothing; an append
 * taken never takes the queue past queueRecordsMax or queueBytesMax. The log's own state (dead, closed, replica or
 * not) is checked by the log first.
 */

import { WalFullError, WalRecordError } from './errors.ts'
import { frameBytesFor, recordProblem, type RecordInput } from './frame.ts'
import { isOneAppend } from './frame-check.ts'
import type { GroupCommit } from './group-commit.ts'
import type { WalOptions } from './options.ts'

/** Why the log refuses to queue `records` now, or their frames' byte count if it takes them. */
export function recordsRefusal(records: RecordInput[], commit: GroupCommit, options: WalOptions): Error | number {
  let bytes = 0
  for (const record of records) {
    const problem = recordProblem(record)
    if (problem !== null) return new WalRecordError(problem)
    bytes += frameBytesFor(record.payload.byteLength)
  }
  const { queueRecordsMax, queueBytesMax } = options
  const { queuedRecords, queuedBytes } = commit
  if (queuedRecords + records.length > queueRecordsMax || queuedBytes + bytes > queueBytesMax) {
    return new WalFullError(`append queue full (${queuedRecords}/${queueRecordsMax} records, ${queuedBytes}/${queueBytesMax} bytes)`)
  }
  return bytes
}

/** Why the log refuses to queue replicated frames of `bytes` now (null: it takes them). */
export function framesRefusal(bytes: Uint8Array, commit: GroupCommit, options: WalOptions): Error | null {
  const { queueBytesMax, batchBytesMax } = options
  // More than a batch only as one whole append (frame.ts), which a leader's writer also writes as a batch of its own.
  if (bytes.byteLength > batchBytesMax && !isOneAppend(bytes)) {
    return new WalRecordError(`replicated chunk of ${bytes.byteLength} bytes exceeds batchBytesMax ${batchBytesMax} and is not one whole append`)
  }
  if (commit.queuedBytes + bytes.byteLength > queueBytesMax) {
    return new WalFullError(`append queue full (${commit.queuedBytes}/${queueBytesMax} bytes)`)
  }
  return null
}
