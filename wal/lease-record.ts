/**
 * The lease record and its files: one `epoch-NNNNNNNNNN.json` per epoch in the lease directory, the highest the
 * current record. Read here, bounded and checked field by field (a file that is not a record is LEASE_FILE_INVALID:
 * refusing to guess who holds the lease); written by the holder (lease.ts).
 */

import { join } from 'node:path'
import { LeaseError } from './errors.ts'
import { nodeIo, readFully, type WalIo } from './io.ts'
import { isInSyncSet, isPreviousHolder, type LeaseInSyncMember } from './lease-in-sync.ts'

export interface LeaseRecord {
  holderId: string
  epoch: number
  expiresAtMs: number
  renewedAtMs: number
  /**
   * The log floor: an LSN a standby of the holder held durably (see the file comment). Absent in a record written by a
   * build before it: nothing is then known, and no taker is refused.
   */
  replicatedLsn?: number
  /**
   * The in-sync set (wal/lease-in-sync.ts): the nodes whose acknowledgements the holder waits for. Absent in a record
   * written by a build before it, or by a holder that keeps none (asynchronous replication): takers are then judged by
   * the floor alone.
   */
  inSync?: LeaseInSyncMember[]
  /**
   * The node id of the holder of the record this holder took over from (wal/lease-in-sync.ts): allowed to take over
   * while the set is empty. Absent in a record written by a build before it, or by a first holder.
   */
  previousHolder?: string
}

export const EPOCH_FILE = /^epoch-(\d{10})\.json$/
export const KEEP_EPOCH_FILES = 4

/**
 * The highest epoch a lease may hold: a frame carries its writer's epoch in 32 bits (wal/frame.ts), and a log refuses
 * a writer above it. A record above it (a damaged or hand-written file) is LEASE_FILE_INVALID; one at it leaves no
 * epoch to take over with (Lease.acquire). Taken, each takeover's log open failed and the next took the epoch after.
 */
export const LEASE_EPOCH_MAX = 0xffff_ffff

export function epochFileName(epoch: number): string {
  return `epoch-${String(epoch).padStart(10, '0')}.json`
}

/** Reads the current (highest-epoch) lease record in `dir`, or null if there has never been one. */
export function readCurrentLease(dir: string, io: WalIo = nodeIo): LeaseRecord | null {
  const epoch = highestEpoch(dir, io)
  return epoch === 0 ? null : readLeaseFile(join(dir, epochFileName(epoch)), epoch, io)
}

export function highestEpoch(dir: string, io: WalIo): number {
  if (!io.exists(dir)) return 0
  let highest = 0
  for (const name of io.readdir(dir)) {
    const match = EPOCH_FILE.exec(name)
    if (match !== null) highest = Math.max(highest, Number(match[1]))
  }
  return highest
}

/**
 * The record in epoch `epoch`'s file, or null when there is none (a directory emptied by hand). Throws as
 * readCurrentLease does for a file that is not that epoch's record.
 */
export function readLeaseRecordOf(dir: string, epoch: number, io: WalIo = nodeIo): LeaseRecord | null {
  const path = join(dir, epochFileName(epoch))
  return io.exists(path) ? readLeaseFile(path, epoch, io) : null
}

/** A lease record is about 150 bytes (the holder id is a node name); a file far larger is not one, and is not read. */
const LEASE_FILE_BYTES_MAX = 64 * 1024

/** The record in `path`, which must be epoch `epoch`'s: a takeover takes the epoch after the record's. */
function readLeaseFile(path: string, epoch: number, io: WalIo): LeaseRecord {
  const text = leaseFileText(path, io)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = null
  }
  if (!isLeaseRecord(parsed)) throw new LeaseError('LEASE_FILE_INVALID', `${path} is not a lease record (refusing to guess who holds it)`)
  const timesProblem = leaseTimesProblem(parsed)
  if (timesProblem !== null) throw new LeaseError('LEASE_FILE_INVALID', `${path}: ${timesProblem} (refusing to guess who holds it)`)
  // Taken at face value, every taker would try the epoch this file already holds (LEASE_RACE_LOST, for good).
  if (parsed.epoch > LEASE_EPOCH_MAX) throw new LeaseError('LEASE_FILE_INVALID', `${path} holds epoch ${parsed.epoch}, above the highest a log frame carries (${LEASE_EPOCH_MAX}) (refusing to guess who holds it)`)
  if (parsed.epoch !== epoch) throw new LeaseError('LEASE_FILE_INVALID', `${path} holds the record of epoch ${parsed.epoch} (refusing to guess who holds it)`)
  return parsed
}

/**
 * The file's text, bounded. One that cannot be read (a directory under an epoch file's name, EACCES, EIO) is
 * LEASE_FILE_INVALID naming it: node's own message for a failed read names no file.
 */
function leaseFileText(path: string, io: WalIo): string {
  let fd: number
  try {
    fd = io.openRead(path)
  } catch (error) {
    throw unreadable(path, error)
  }
  try {
    const sizeBytes = io.sizeBytes(fd)
    if (sizeBytes > LEASE_FILE_BYTES_MAX) {
      throw new LeaseError('LEASE_FILE_INVALID', `${path} is ${sizeBytes} bytes, no lease record is larger than ${LEASE_FILE_BYTES_MAX} (refusing to guess who holds it)`)
    }
    return new TextDecoder().decode(readFully(io, fd, 0, sizeBytes))
  } catch (error) {
    throw error instanceof LeaseError ? error : unreadable(path, error)
  } finally {
    io.close(fd)
  }
}

function unreadable(path: string, error: unknown): LeaseError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error)
  return new LeaseError('LEASE_FILE_INVALID', `${path} cannot be read (${code}) (refusing to guess who holds it)`)
}

/** Whether two reads of the lease found the same record: same epoch and holder, not renewed in between. */
export function sameLeaseRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return a.epoch === b.epoch && a.holderId === b.holderId && a.renewedAtMs === b.renewedAtMs && a.expiresAtMs === b.expiresAtMs
}

/** The longest lease a record may state (expiresAtMs − renewedAtMs): `serve --lease-ttl-ms`'s bound. */
export const LEASE_TTL_MS_MAX = 600_000

/**
 * What is wrong with a record's times, or null: both whole milliseconds since the epoch, and the lease they state no
 * longer than LEASE_TTL_MS_MAX (a released one's is 0). A digit too many in expiresAtMs kept every standby waiting on a dead leader for
 * centuries without a word, and one past a Date's range made a takeover throw "Invalid Date".
 */
export function leaseTimesProblem(record: Pick<LeaseRecord, 'expiresAtMs' | 'renewedAtMs'>): string | null {
  const { expiresAtMs, renewedAtMs } = record
  if (!Number.isSafeInteger(renewedAtMs) || renewedAtMs < 0) return `renewedAtMs ${renewedAtMs} is not a time in whole milliseconds`
  // Any time up to the longest lease after the renewal (0: released, Lease.release).
  if (!Number.isSafeInteger(expiresAtMs) || expiresAtMs < 0 || expiresAtMs - renewedAtMs > LEASE_TTL_MS_MAX) {
    return `expiresAtMs ${expiresAtMs} is not a time in whole milliseconds at most ${LEASE_TTL_MS_MAX} ms after renewedAtMs ${renewedAtMs}`
  }
  return null
}

function isLeaseRecord(value: unknown): value is LeaseRecord {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  return (
    typeof record.holderId === 'string' &&
    Number.isInteger(record.epoch) &&
    typeof record.expiresAtMs === 'number' &&
    typeof record.renewedAtMs === 'number' &&
    (record.replicatedLsn === undefined || (Number.isSafeInteger(record.replicatedLsn) && (record.replicatedLsn as number) >= 0)) &&
    (record.inSync === undefined || isInSyncSet(record.inSync)) &&
    (record.previousHolder === undefined || isPreviousHolder(record.previousHolder))
  )
}
