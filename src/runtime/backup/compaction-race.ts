/**
 * Is a refused pull a leader that compacted its log past the backup's position while the backup ran, rather than a
 * source that failed or sent bad data? The leader compacts (below each new snapshot) while it trades, so between the
 * backup's snapshot fetch and its stream — or during the stream — the records the backup needs next can go:
 *
 * - before the stream starts, the leader says so: 409 RESYNC_REQUIRED (its log starts after the LSN asked for);
 * - during the stream, the leader ends it (src/runtime/ha/stream.ts); a leader of an older build read on from its new
 *   first LSN (wal/reader.ts clamps to it), so the next envelope began past the LSN the backup expects:
 *   `Wal.appendFrames` refuses it, LSN_GAP, nothing kept. Neither an end nor a gap says why (a leader stepping down,
 *   or a leader's bug, would look the same), so it is confirmed by asking the stream again from the LSN the backup
 *   expects, as a standby would: only a RESYNC_REQUIRED answer makes it a compaction race.
 *   The probe is read no further than its answer's status (its body, frames or refusal, is cancelled).
 *
 * Corruption (a CRC, chain or epoch check) is never a race: only LSN_GAP and an ended stream are probed.
 */

import { toHex, WalReplicationError, type Wal } from '../../../wal/index.ts'
import { answerText } from '../ha/answer-text.ts'
import { PullEndedError, standbyRequestHeaders, type LeaderAccess } from '../ha/index.ts'

/** The leader compacted past the backup's next LSN (the take-backup loop starts again, or says what to do). */
export class LeaderCompactedError extends Error {
  override readonly name = 'LeaderCompactedError'
  constructor(
    /** The LSN the backup needed next. */
    readonly neededLsn: number,
    /** Seen mid-stream (a gap, confirmed), not as the stream's first answer. */
    readonly midStream: boolean,
    message: string,
  ) {
    super(message)
  }
}

/** A 409 RESYNC_REQUIRED answer to a stream request. */
export function isResyncRequired(error: unknown): error is PullEndedError {
  return error instanceof PullEndedError && error.ended.kind === 'answered' && error.ended.status === 409 && error.ended.body.includes('"RESYNC_REQUIRED"')
}

/**
 * `error`, thrown by a pull into `wal`, as a LeaderCompactedError when it is a compaction race (see the file comment);
 * null otherwise (the caller keeps the error as it was). `wal` is still open and holds what was appended before it.
 */
export async function compactionRaceOf(error: unknown, wal: Wal, access: LeaderAccess): Promise<LeaderCompactedError | null> {
  const neededLsn = wal.lastLsn + 1
  if (isResyncRequired(error)) return new LeaderCompactedError(neededLsn, false, error.message)
  const gap = error instanceof WalReplicationError && error.code === 'LSN_GAP'
  const ended = error instanceof PullEndedError && error.ended.kind === 'ended'
  if (!(gap || ended) || access.stopSignal?.aborted === true) return null
  const answer = await streamAnswer(access, neededLsn, wal.chainHead)
  if (answer === null || answer.status !== 409 || !answer.body.includes('"RESYNC_REQUIRED"')) return null
  return new LeaderCompactedError(neededLsn, true, `${gap ? `a frame from the leader was refused (${error.message})` : error.message} and the leader now answers, asked from LSN ${neededLsn}: ${answer.body}`)
}

/** The status (and a refusal's body) of a stream request from `fromLsn`; null if it could not be asked. */
async function streamAnswer(access: LeaderAccess, fromLsn: number, head: Uint8Array): Promise<{ status: number; body: string } | null> {
  const timeout = AbortSignal.timeout(access.timeoutMs)
  const signal = access.stopSignal === undefined ? timeout : AbortSignal.any([timeout, access.stopSignal])
  try {
    const response = await fetch(`${access.leaderUrl}/replication/stream?from_lsn=${fromLsn}&head=${toHex(head)}`, { headers: standbyRequestHeaders(access.token), signal })
    if (response.ok) {
      await response.body?.cancel().catch(() => undefined)
      return { status: response.status, body: '' }
    }
    return { status: response.status, body: (await answerText(response)).slice(0, 300) }
  } catch {
    return null
  }
}
