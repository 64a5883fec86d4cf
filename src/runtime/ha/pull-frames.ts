/**
 * The catch-up pull: the leader's frames from this log's next LSN, over `GET /replication/stream` with a standby's
 * headers (the replication token, what this build reads), appended with `Wal.appendFrames` — which checks every
 * frame's CRC, LSN, epoch and chain from this log's own head before writing any of it (wal/replicate.ts) — until the
 * log holds a given LSN. A snapshot recovery pulls through the snapshot's LSN with it (snapshot-recovery.ts), and
 * `egress backup` through the leader's end as it read it (src/runtime/backup/).
 *
 * It never acknowledges (`POST /replication/ack`): only the replicator of a following standby does (replicator.ts),
 * which is what a leader in synchronous mode counts. A pull is a copy, not a standby: counted, a backup's
 * acknowledgements would release a leader's 202s (and venue sends) for records no standby holds.
 */

import { toHex, type Wal } from '../../../wal/index.ts'
import { answerText } from './answer-text.ts'
import { EnvelopeReader, SILENCE_PROGRESS_BYTES } from './envelope.ts'
import { framesThrough } from './frames-through.ts'
import { WholeAppends } from './whole-appends.ts'
import { standbyRequestHeaders } from './log-reads.ts'
import type { LeaderAccess } from './snapshot-recovery.ts'

/** The stream was refused (`answered`: its status and the start of its body) or ended before the log held the LSN. */
export class PullEndedError extends Error {
  override readonly name = 'PullEndedError'
  constructor(
    readonly ended: { kind: 'answered'; status: number; body: string } | { kind: 'ended'; lastLsn: number },
    message: string,
  ) {
    super(message)
  }
}

export interface PullOptions {
  /** Pull until the log holds this LSN. */
  throughLsn: number
  /**
   * End there (or at the end of the decision holding it, frames-through.ts), dropping the frames past it of the last
   * envelope; otherwise the last envelope is appended whole, so the log may end past it.
   */
  exact: boolean
  /**
   * 'total': `timeoutMs` bounds the whole pull; 'silence': it bounds each wait for the next whole envelope (a long log),
   * a heartbeat at least, or for SILENCE_PROGRESS_BYTES (a large envelope on a slow link), as a standby's replicator
   * (replicator.ts): a leader trickling fewer bytes that never make an envelope is a silent one.
   */
  timeout: 'total' | 'silence'
  /** After each envelope appended: the log's last LSN, the leader's as the envelope says, the bytes received so far. */
  onEnvelope?: (progress: { lastLsn: number; leaderLastLsn: number; bytesReceived: number }) => void
}

/**
 * Pulls into `wal` (a replica) as the file comment says; resolves with the LSN the log ends at. Throws PullEndedError,
 * the log's refusal of a frame (WalReplicationError), or what the fetch or the read threw (an abort included).
 */
export async function pullFrames(wal: Wal, access: LeaderAccess & { envelopeBytesMax: number }, options: PullOptions): Promise<number> {
  const abort = new AbortController()
  let timer: ReturnType<typeof setTimeout> | null = null
  const arm = (): void => {
    if (timer !== null) clearTimeout(timer)
    const why = options.timeout === 'silence' ? `no envelope from ${access.leaderUrl} for ${access.timeoutMs} ms` : `not done within ${access.timeoutMs} ms`
    timer = setTimeout(() => abort.abort(new Error(why)), access.timeoutMs)
  }
  arm()
  let endLsn = options.throughLsn
  try {
    const url = `${access.leaderUrl}/replication/stream?from_lsn=${wal.lastLsn + 1}&head=${toHex(wal.chainHead)}`
    const signal = access.stopSignal === undefined ? abort.signal : AbortSignal.any([abort.signal, access.stopSignal])
    const response = await fetch(url, { headers: standbyRequestHeaders(access.token), signal })
    if (!response.ok || response.body === null) {
      const body = (await answerText(response)).slice(0, 300)
      throw new PullEndedError({ kind: 'answered', status: response.status, body }, `stream from LSN ${wal.lastLsn + 1} answered ${response.status}: ${body}`)
    }
    const reader = new EnvelopeReader({ envelopeBytesMax: access.envelopeBytesMax })
    // Whole appends only (whole-appends.ts): a pull's log never ends inside one, which its next open would cut.
    const whole = new WholeAppends(wal.options.batchBytesMax)
    let bytesReceived = 0
    // Bytes taken since the timer was last restarted: in 'silence' mode SILENCE_PROGRESS_BYTES of them restart it too
    // (a large envelope on a slow link is progress; a trickle is not).
    let bytesSinceArmed = 0
    for await (const received of response.body) {
      bytesReceived += received.byteLength
      bytesSinceArmed += received.byteLength
      if (options.timeout === 'silence' && bytesSinceArmed >= SILENCE_PROGRESS_BYTES) {
        bytesSinceArmed = 0
        arm()
      }
      for (const envelope of reader.push(received)) {
        if (options.timeout === 'silence') {
          bytesSinceArmed = 0
          arm()
        }
        if (wal.lastLsn >= endLsn) break
        const through = options.exact ? framesThrough(envelope.frames, endLsn) : { bytes: envelope.frames, endLsn }
        endLsn = through.endLsn
        // Frames that all lie past the end while the log has not reached it skip LSNs (a leader that compacted past
        // them meanwhile reads on from its new first LSN): appended whole, they are refused (LSN_GAP) before anything
        // is written. Dropped here, the pull would wait for LSNs the leader no longer sends, for as long as it streams.
        for (const chunk of whole.take(through.bytes.byteLength === 0 ? envelope.frames : through.bytes)) {
          await wal.appendFrames(chunk, { epochCeiling: access.epochCeiling })
        }
        options.onEnvelope?.({ lastLsn: wal.lastLsn, leaderLastLsn: envelope.leaderLastLsn, bytesReceived })
      }
      if (wal.lastLsn >= endLsn) return wal.lastLsn
    }
    throw new PullEndedError({ kind: 'ended', lastLsn: wal.lastLsn }, `the stream ended at LSN ${wal.lastLsn}, before LSN ${endLsn}`)
  } finally {
    if (timer !== null) clearTimeout(timer)
    abort.abort()
  }
}
