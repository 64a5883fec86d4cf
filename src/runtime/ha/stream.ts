/**
 * The leader's side of replication: frames from an LSN, read back from the log (each CRC-checked on the way out) and
 * sent as envelopes of whole frames, then the live tail as batches commit, with heartbeats while nothing is written.
 * Frames go out byte for byte as stored, so the standby's log is the same bytes with the same chain head.
 *
 * This reads from disk rather than `follow()`'s copied frames because the standby needs the raw frame bytes; the page
 * cache makes the re-read cheap, and a slow standby costs the leader nothing but a file position.
 */

import { frameContinues, hashesEqual, rawFrameBytes, toHex, type Wal } from '../../../wal/index.ts'
import { decodeCommandRecord, isCommandRecord } from './command-record.ts'
import { encodeEnvelope } from './envelope.ts'

/**
 * The stream's answer header naming the epoch of the leader serving it: the standby's acknowledgements of what it
 * appended from that stream name it back (`POST /replication/ack {lsn, epoch}`), and a leader counts only its own
 * term's (sync.ts). An LSN alone says nothing of whose log it is in: another term's log may hold other records there.
 */
export const LEADER_EPOCH_HEADER = 'x-egress-leader-epoch'

export interface StreamOptions {
  fromLsn: number
  /** Bytes of frames per envelope (at least one frame is always sent, however large). */
  chunkBytesMax: number
  /** An empty envelope is sent after this long without frames. */
  heartbeatMs: number
  signal: AbortSignal
}

/** Why a standby cannot continue from where it is. */
export type StreamRefusal =
  | { code: 'DIVERGED'; message: string; leaderLastLsn: number }
  | { code: 'RESYNC_REQUIRED'; message: string; leaderFirstLsn: number }

/**
 * The chain hash at `lsn` (0: genesis), or null if this log does not hold it. The LSN just before a compacted log's
 * first one is known too: the first segment's header carries it (the anchor a standby recovering from a snapshot
 * starts its own log at).
 */
export function chainHashAt(wal: Wal, lsn: number): Uint8Array | null {
  if (lsn === 0) return new Uint8Array(32)
  if (lsn === wal.firstLsn - 1) return wal.segments[0]?.previousHash.slice() ?? null
  if (lsn < wal.firstLsn || lsn > wal.lastLsn) return null
  for (const frame of wal.read(lsn, { toLsn: lsn })) return frame.hash.slice()
  return null
}

/**
 * Can a standby whose log ends at `fromLsn - 1` with chain head `headHash` continue from this log? It cannot if it
 * holds records this log does not (ahead, or a different hash at its last LSN: a fork) or if this log no longer holds
 * the frames it needs (compacted below the standby's next LSN — an empty standby included: it then starts from the
 * leader's snapshot, see snapshot-recovery.ts).
 */
export function streamRefusal(wal: Wal, fromLsn: number, headHash: Uint8Array): StreamRefusal | null {
  const standbyLast = fromLsn - 1
  if (standbyLast > wal.lastLsn) {
    return { code: 'DIVERGED', message: `the standby holds LSNs up to ${standbyLast}; this log ends at ${wal.lastLsn}`, leaderLastLsn: wal.lastLsn }
  }
  if (standbyLast < wal.firstLsn - 1) {
    return { code: 'RESYNC_REQUIRED', message: `this log starts at LSN ${wal.firstLsn} (compacted); the standby needs ${fromLsn}`, leaderFirstLsn: wal.firstLsn }
  }
  const ours = chainHashAt(wal, standbyLast)
  if (ours === null || !hashesEqual(ours, headHash)) {
    return { code: 'DIVERGED', message: `chain head at LSN ${standbyLast} differs (leader ${ours === null ? 'none' : toHex(ours)}, standby ${toHex(headHash)})`, leaderLastLsn: wal.lastLsn }
  }
  return null
}

/**
 * The last LSN of the decision whose command record is at `commandLsn` (the record says how many events follow it in
 * its append), or `commandLsn` itself if the record cannot be read.
 *
 * Why envelopes end at decision boundaries: the standby makes each envelope durable on its own, so an envelope that
 * ended inside a decision would leave the standby's log ending there if the leader died before the next one — and a
 * promoted standby would build its state from half a decision (a place result's call_completed without its
 * send_acked: an order Sent with no call in flight, never reconciled). Envelopes are cut only where the chunk bound
 * is reached, which is at a decision boundary on the live tail (the durable end is the end of an append) but anywhere
 * while a standby catches up a backlog. So past the bound an envelope still takes the rest of the decision it holds
 * the start of, up to twice the bound (a standby's batch bound, 4 MiB by default, is above the 2 MiB that makes in
 * serve). Where that decision ends is known from its frames' append flag (wal/frame.ts: set on every frame of an
 * append but its last), and in a log written before the flag from its command record; only a decision larger than
 * twice the bound can still be cut.
 */
function decisionEnd(wal: Wal, commandLsn: number): number {
  try {
    for (const frame of wal.read(commandLsn, { toLsn: commandLsn })) return commandLsn + decodeCommandRecord(frame).eventCount
  } catch {
    // An unreadable command record: nothing is known about its decision, so the bound alone decides.
  }
  return commandLsn
}

/**
 * Envelopes from `fromLsn` on, until the signal aborts or the log closes. Throws the log's fatal error if the writer
 * dies. A closed log ends the stream (the standby reconnects to whoever leads now): a leader that stepped down closed
 * it, and heartbeats from it would have kept the standby on a log that never moves again, even once the same node
 * leads again with a new log at the same URL. It ends once every frame the log holds went out, not as soon as it
 * closes: a leader's planned stop writes its last records (the stop's own, the shutdown seal) and closes the log, then
 * waits for its standby to hold them before it lets the lease go (tail-handoff.ts). Before, the stream stopped as the
 * log closed and the standby took over without them. A compaction below the next LSN to send ends it too.
 */
export async function* replicationStream(wal: Wal, options: StreamOptions): AsyncGenerator<Uint8Array> {
  let next = options.fromLsn
  let wake: (() => void) | null = null
  const unsubscribe = wal.subscribe(() => wake?.())
  const onAbort = (): void => wake?.()
  options.signal.addEventListener('abort', onAbort)
  // Once its close has finished (what was queued flushed), the log's last LSN is final: what is left goes out, then
  // the stream ends.
  const unsubscribeClose = wal.onClosed(() => wake?.())
  try {
    while (!options.signal.aborted) {
      // Compacted below the next LSN to send (meanwhile, or before: the route refuses that first, streamRefusal): the
      // read would start at the log's new first LSN, an envelope past a gap the standby refuses (LSN_GAP), read and
      // sent for nothing. Ended here, the standby asks again and is told RESYNC_REQUIRED at once.
      if (next < wal.firstLsn) break
      if (next <= wal.lastLsn) {
        const parts: Uint8Array[] = []
        let bytes = 0
        // The last command record in this envelope, and the last LSN of its decision once known (see decisionEnd).
        let commandLsn = 0
        let decisionEndLsn = 0
        // Does the last frame taken say more of its append follows?
        let appendOpen = false
        for (const frame of wal.read(next)) {
          const raw = rawFrameBytes(frame)
          if (bytes > 0 && bytes + raw.byteLength > options.chunkBytesMax) {
            if (commandLsn > decisionEndLsn) decisionEndLsn = decisionEnd(wal, commandLsn)
            const insideDecision = appendOpen || frame.lsn <= decisionEndLsn
            if (!insideDecision || bytes + raw.byteLength > 2 * options.chunkBytesMax) break
          }
          appendOpen = frameContinues(raw)
          if (isCommandRecord(frame.type)) commandLsn = frame.lsn
          parts.push(raw.slice())
          bytes += raw.byteLength
          next = frame.lsn + 1
        }
        yield encodeEnvelope(Buffer.concat(parts), wal.lastLsn)
        continue
      }
      if (wal.fatalError !== null) throw wal.fatalError
      if (wal.hasClosed) break
      let timer: ReturnType<typeof setTimeout> | null = null
      await new Promise<void>((resolve) => {
        wake = resolve
        timer = setTimeout(resolve, options.heartbeatMs)
      })
      wake = null
      if (timer !== null) clearTimeout(timer)
      if (next > wal.lastLsn && !options.signal.aborted && !wal.isClosed) yield encodeEnvelope(new Uint8Array(0), wal.lastLsn)
    }
  } finally {
    unsubscribe()
    unsubscribeClose()
    options.signal.removeEventListener('abort', onAbort)
  }
}
