/**
 * Checking frames that arrive from another log (replication) before any of them is written: each must pass its CRC,
 * carry the next LSN, an epoch no lower than the one before it (and, if the receiver says so, no higher than the
 * lease's current epoch), and a chain hash that follows from the receiving log's own head. The receiver recomputes every hash itself, so a leader cannot hand a standby a history that does not
 * chain from what the standby already holds — a fork is refused here, never appended.
 */

import { HASH_BYTES } from './chain.ts'
import { WalReplicationError } from './errors.ts'
import { assert } from './assert.ts'
import { FRAME_HASH_OFFSET, FRAME_PAYLOAD_OFFSET, type Frame } from './frame.ts'
import { chainHolds, continuesAt, crcHolds, epochAt, frameBody, frameBytesAt, lengthProblem, lsnAt, typeAt, versionAt } from './frame-check.ts'
import type { ChainPosition } from './scan.ts'

/** One checked frame inside the received bytes. */
export interface ReplicatedFrame {
  offsetBytes: number
  frameBytes: number
  lsn: number
  epoch: number
  type: number
  version: number
  /** More frames of the same append follow it (frame.ts). */
  continues: boolean
  /** The chain head before this frame (a copy). */
  previousHash: Uint8Array
}

/**
 * The highest epoch a replicated frame may carry: the lease's current epoch, as the receiver reads it from the lease
 * directory it shares with the sender. A frame above it was written under no lease (a buggy or hostile sender) and,
 * appended, would make the receiver's own takeover fail (its log would hold an epoch above the one it takes). Called
 * only when a frame raises the epoch above the one before it (once per leadership term), not for every frame.
 */
export type EpochCeiling = () => number

/**
 * Checks every frame in `bytes` against `head` (not modified) and, if given, `epochCeiling`. Returns the frames, or
 * throws WalReplicationError naming the first refused frame (or whatever `epochCeiling` threw). `bytes` is borrowed
 * for hashing and left as it was.
 */
export function checkReplicatedFrames(received: Uint8Array, head: Readonly<ChainPosition>, epochCeiling?: EpochCeiling): ReplicatedFrame[] {
  // A Node Buffer's slice() is a view, not a copy, which the hash check's borrow-and-restore relies on: use a plain view.
  const bytes = plainBytes(received)
  const frames: ReplicatedFrame[] = []
  const previousHash = head.lastHash.slice()
  const scratchHash = new Uint8Array(HASH_BYTES)
  let expectedLsn = head.lastLsn + 1
  let lastEpoch = head.lastEpoch
  let epochMax: number | null = null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let offset = 0
  while (offset < bytes.byteLength) {
    const frameBytes = frameBytesAt(view, offset, bytes.byteLength)
    const body = frameBytes < 0 ? null : frameBody(bytes, offset, frameBytes)
    if (body === null || !crcHolds(view, offset, body)) {
      const problem = frameBytes < 0 ? lengthProblem(frameBytes) : 'crc'
      throw new WalReplicationError('FRAME_CORRUPT', expectedLsn, `frame at byte ${offset} fails its ${problem} check`)
    }
    const lsn = lsnAt(view, offset)
    const epoch = epochAt(view, offset)
    if (lsn !== expectedLsn) throw new WalReplicationError('LSN_GAP', expectedLsn, `received LSN ${lsn}`)
    if (epoch < lastEpoch) {
      throw new WalReplicationError('EPOCH_REGRESSION', expectedLsn, `frame epoch ${epoch} is lower than epoch ${lastEpoch} already in the log`)
    }
    if (epoch > lastEpoch && epochCeiling !== undefined) {
      epochMax ??= epochCeiling()
      if (epoch > epochMax) throw new WalReplicationError('EPOCH_AHEAD', expectedLsn, `frame epoch ${epoch} is above the lease's current epoch ${epochMax}`)
    }
    if (!chainHolds(bytes, offset, body, previousHash, scratchHash)) {
      throw new WalReplicationError('CHAIN_BREAK', expectedLsn, 'the frame hash does not follow from this log\'s head (the histories have forked)')
    }
    frames.push({ offsetBytes: offset, frameBytes, lsn, epoch, type: typeAt(view, offset), version: versionAt(view, offset), continues: continuesAt(view, offset), previousHash: previousHash.slice() })
    previousHash.set(scratchHash)
    lastEpoch = epoch
    expectedLsn++
    offset += frameBytes
  }
  return frames
}

/**
 * The whole on-disk bytes of a frame read back with `Wal.read` or seen by a commit listener (both hand out views into
 * one contiguous buffer). Not valid for copied frames (`copyFrame`): their payload stands alone.
 */
export function rawFrameBytes(frame: Frame): Uint8Array {
  const start = frame.payload.byteOffset - FRAME_PAYLOAD_OFFSET
  assert(start >= 0 && frame.hash.buffer === frame.payload.buffer && frame.hash.byteOffset === start + FRAME_HASH_OFFSET, 'rawFrameBytes needs a frame view, not a copy')
  return new Uint8Array(frame.payload.buffer, start, frame.frameBytes)
}

/** `bytes` as a plain Uint8Array view over the same memory (a Node Buffer's `slice()` does not copy). */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
