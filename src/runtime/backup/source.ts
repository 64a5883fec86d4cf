/**
 * Which leader a backup copies, and where its log ends as the backup starts: `GET /replication/hash?lsn=0` on the
 * source, with the replication token. It answers the log's last LSN (`last_lsn`), which is where the backup stops
 * unless --to-lsn says otherwise; it is the end of an append (the leader's durable end), so never inside a decision.
 *
 * The replication routes are served by the leader only: a standby (or a deposed leader) answers 503 NOT_LEADER naming
 * the leader it knows, which is then asked instead, once, its URL checked as --from's is (source-url.ts). Nothing here
 * writes to the source: the route reads, takes no lease, and no acknowledgement is ever sent (pull-frames.ts).
 */

import { answerText } from '../ha/answer-text.ts'
import { BackupError } from './backup-error.ts'
import { sourceUrlOf } from './source-url.ts'

/** Bytes read of a source's answer to this request: far above `{"lsn":0,"hash":…,"last_lsn":…}` or an error body. */
const ANSWER_BYTES_MAX = 64 * 1024

export interface BackupSource {
  /** The leader's base URL (the one given, or the leader a standby named). */
  leaderUrl: string
  /** The leader's last LSN as the backup starts. */
  lastLsn: number
  /** Set when the URL given was not the leader's: the node asked first. */
  askedFirst: string | null
}

export async function resolveSource(fromUrl: string, token: string, timeoutMs: number, signal?: AbortSignal): Promise<BackupSource> {
  const first = await askLastLsn(fromUrl, token, timeoutMs, signal)
  if ('lastLsn' in first) return { leaderUrl: fromUrl, lastLsn: first.lastLsn, askedFirst: null }
  const named = sourceUrlOf(first.leader)
  if ('invalid' in named) throw new BackupError('BACKUP_SOURCE_REFUSED', `${fromUrl} is not the leader and names ${JSON.stringify(first.leader.slice(0, 200))} as the leader, which is not a usable URL: ${named.invalid}`)
  const second = await askLastLsn(named.url, token, timeoutMs, signal)
  if ('lastLsn' in second) return { leaderUrl: named.url, lastLsn: second.lastLsn, askedFirst: fromUrl }
  throw new BackupError('BACKUP_SOURCE_REFUSED', `${fromUrl} named ${named.url} as the leader, which is not the leader either (it names ${JSON.stringify(second.leader.slice(0, 200))}); try again once the pair has a leader`)
}

/** The node's last LSN, or the leader it names when it is not the leader. */
async function askLastLsn(url: string, token: string, timeoutMs: number, signal?: AbortSignal): Promise<{ lastLsn: number } | { leader: string }> {
  const timeout = AbortSignal.timeout(timeoutMs)
  let status: number
  let text: string
  try {
    const response = await fetch(`${url}/replication/hash?lsn=0`, { headers: { Authorization: `Bearer ${token}` }, signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]) })
    status = response.status
    text = await answerText(response, ANSWER_BYTES_MAX)
  } catch (error) {
    // A signal here is the operator's stop, not the source failing (it said "The operation was aborted", of the source).
    if (signal?.aborted === true) throw new BackupError('BACKUP_INTERRUPTED', 'stopped by a signal before the copy began; nothing was written')
    throw new BackupError('BACKUP_SOURCE_FAILED', `GET ${url}/replication/hash: ${error instanceof Error ? error.message : String(error)}`)
  }
  const body = parsed(text)
  if (status === 200) {
    const lastLsn = body?.last_lsn
    if (typeof lastLsn !== 'number' || !Number.isSafeInteger(lastLsn) || lastLsn < 0) {
      throw new BackupError('BACKUP_SOURCE_REFUSED', `${url} answered /replication/hash without a last LSN (${JSON.stringify(text.slice(0, 200))}): not an egress node?`)
    }
    return { lastLsn }
  }
  const error = body?.error as { code?: unknown; message?: unknown; details?: { leader?: unknown } } | undefined
  if (status === 401) throw new BackupError('BACKUP_AUTH_REFUSED', `${url} refused the replication token (401): give the nodes' EGRESS_REPLICATION_TOKEN`)
  if (status === 503 && error?.code === 'NOT_LEADER') {
    const leader = error.details?.leader
    if (typeof leader === 'string' && leader.length > 0) return { leader }
    throw new BackupError('BACKUP_SOURCE_REFUSED', `${url} is not the leader and knows none: try again once the pair has a leader`)
  }
  const code = typeof error?.code === 'string' ? `${error.code}: ` : ''
  const message = typeof error?.message === 'string' ? error.message : text
  throw new BackupError('BACKUP_SOURCE_REFUSED', `${url}/replication/hash answered ${status}: ${code}${message.slice(0, 300)}`)
}

function parsed(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}
