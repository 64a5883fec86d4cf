/**
 * The standby's side of replication: pull the leader's log from this log's last LSN over HTTP, append every envelope's
 * frames with `Wal.appendFrames` (which checks CRC, LSN, epoch and chain against this log's own head before writing,
 * and refuses a frame whose epoch is above the lease's current one, `epochCeiling`), and let the commit listener apply
 * them to the engine. A refused envelope (WalReplicationError: a buggy or hostile peer holding the token) appends
 * nothing of itself; the stream is dropped and re-opened after a backoff, as for a malformed envelope. Reconnects with bounded exponential backoff; a stream with
 * neither a whole envelope nor SILENCE_PROGRESS_BYTES for longer than `silenceMsMax` (a paused leader keeps its sockets
 * open; a broken one may trickle bytes that never make one) is dropped and re-opened.
 *
 * After every envelope (heartbeats included) the standby acknowledges its durable LSN to the leader
 * (`POST /replication/ack`, at most one in flight, the newest LSN wins), which is what a leader in synchronous mode
 * waits for before answering 202 (sync.ts). Each acknowledgement names the epoch of the leader whose stream it
 * appended from (the stream's LEADER_EPOCH_HEADER), and a leader counts only its own term's: an LSN alone does not say
 * whose log it is in. A leader of a build older than the header sends none; the acknowledgement then names no epoch
 * (that leader ignores the key anyway). Each also names this node (`node_id`): the leader's in-sync set is of nodes
 * (in-sync.ts); a leader of a build before it ignores the key.
 *
 * A leader that answers DIVERGED (this log holds records the leader does not) stops the replicator and hands the
 * decision to `onDiverged`: a standby never appends onto a forked history. One that answers RESYNC_REQUIRED (it has
 * compacted away the frames this log needs next) hands over to `onResyncRequired` the same way.
 *
 * stop() ends the stream, an acknowledgement in flight and a backoff at once; so does the node's stop signal
 * (`stopSignal`, stop-signal.ts), as soon as the node begins to stop.
 */

import { toHex, type EpochCeiling, type Wal } from '../../../wal/index.ts'
import { answerText } from './answer-text.ts'
import { EnvelopeReader, SILENCE_PROGRESS_BYTES } from './envelope.ts'
import { WholeAppends } from './whole-appends.ts'
import { standbyRequestHeaders } from './log-reads.ts'
import { LEADER_EPOCH_HEADER } from './stream.ts'

export interface ReplicatorOptions {
  /** The replica log (Wal.openReplica). */
  wal: Wal
  /** The leader's base URL now (from the lease), or null if none is known. */
  leaderUrl: () => string | null
  /** Shared secret sent as a bearer token; the leader's replication route checks it. */
  token: string
  /**
   * This node's id, named in every acknowledgement (`node_id`): the leader waits for its in-sync set's members by name,
   * and writes a node into the lease record before its acknowledgements count (in-sync.ts).
   */
  nodeId: string
  /**
   * The lease's current epoch, read from the lease directory this node shares with the leader (lease-dir.ts): frames
   * above it are refused (EPOCH_AHEAD). Appended, they would make this node's takeover fail LEASE_LOST every time: its
   * log would hold an epoch above the one it takes.
   */
  epochCeiling: EpochCeiling
  backoffMsMin: number
  backoffMsMax: number
  /** Largest envelope accepted (the leader's chunk bound plus one frame). */
  envelopeBytesMax: number
  /** A stream with neither an envelope (a heartbeat at least) nor SILENCE_PROGRESS_BYTES for this long is dropped and re-opened. */
  silenceMsMax: number
  onDiverged: (details: { leaderUrl: string; message: string; leaderLastLsn: number }) => void
  /**
   * The leader no longer holds the frames this log needs next (compacted; RESYNC_REQUIRED): the replicator stops and
   * hands over (the node recovers from the leader's snapshot, snapshot-recovery.ts). Absent: it keeps retrying.
   */
  onResyncRequired?: (details: { leaderUrl: string; message: string; leaderFirstLsn: number }) => void
  log: (line: string) => void
  /** The node's stop signal (stop-signal.ts): aborted, the replicator pulls and acknowledges no more, as if stopped. */
  stopSignal?: AbortSignal
}

export interface ReplicatorStatus {
  connected: boolean
  leaderUrl: string | null
  leaderLastLsn: number
  lastLsn: number
  /** Records the leader has that this log does not yet (as of the last envelope). */
  lagRecords: number
  lastContactMs: number
  reconnects: number
}

export class Replicator {
  private readonly options: ReplicatorOptions
  private stopped = true
  /** Aborted by stop(): ends the stream, an acknowledgement in flight and a backoff. Renewed by start(). */
  private lifetime = new AbortController()
  /** The lifetime's signal, or the node's stop signal, whichever aborts first. */
  private signal: AbortSignal = this.lifetime.signal
  private running: Promise<void> | null = null
  private progressed = false
  private readonly state = { connected: false, leaderUrl: null as string | null, leaderLastLsn: 0, lastContactMs: 0, reconnects: 0 }
  private readonly acks: AckSender

  constructor(options: ReplicatorOptions) {
    this.options = options
    this.acks = new AckSender(options.token, options.nodeId, Math.max(100, options.silenceMsMax), () => this.signal)
  }

  get status(): ReplicatorStatus {
    const lastLsn = this.options.wal.lastLsn
    return { ...this.state, lastLsn, lagRecords: Math.max(0, this.state.leaderLastLsn - lastLsn) }
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.lifetime = new AbortController()
    const stopSignal = this.options.stopSignal
    this.signal = stopSignal === undefined ? this.lifetime.signal : AbortSignal.any([this.lifetime.signal, stopSignal])
    this.running = this.loop()
  }

  /** Stops pulling; resolves once nothing more will be appended. */
  async stop(): Promise<void> {
    this.stopped = true
    this.lifetime.abort()
    await this.running
    this.running = null
  }

  /** Resolves when this log holds at least `lsn`, or rejects after `timeoutMs`. */
  async caughtUpTo(lsn: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.options.wal.lastLsn < lsn) {
      if (Date.now() > deadline) throw new Error(`replica at LSN ${this.options.wal.lastLsn}, expected ${lsn} within ${timeoutMs} ms`)
      await sleep(5)
    }
  }

  private async loop(): Promise<void> {
    let backoffMs = this.options.backoffMsMin
    const halted = (): boolean => this.stopped || this.signal.aborted
    while (!halted()) {
      this.progressed = false
      try {
        await this.session()
      } catch (error) {
        if (!halted()) this.options.log(`replication: ${error instanceof Error ? error.message : String(error)}`)
      }
      this.state.connected = false
      if (halted()) break
      if (this.progressed) backoffMs = this.options.backoffMsMin
      this.state.reconnects++
      await sleep(backoffMs, this.signal)
      backoffMs = Math.min(backoffMs * 2, this.options.backoffMsMax)
    }
  }

  /** One stream from the leader, until it fails (the loop backs off and reconnects) or the leader says DIVERGED. */
  private async session(): Promise<void> {
    const { wal } = this.options
    const leaderUrl = this.options.leaderUrl()
    if (leaderUrl === null) throw new Error('no leader known yet')
    this.state.leaderUrl = leaderUrl
    const abort = new AbortController()
    let silence: ReturnType<typeof setTimeout> | null = null
    // Bytes taken since the timer was last restarted: SILENCE_PROGRESS_BYTES of them restart it too.
    let bytesSinceArmed = 0
    const armSilence = (): void => {
      bytesSinceArmed = 0
      if (silence !== null) clearTimeout(silence)
      silence = setTimeout(() => abort.abort(new Error(`no envelope from ${leaderUrl} for ${this.options.silenceMsMax} ms`)), this.options.silenceMsMax)
    }
    armSilence()
    try {
      const url = `${leaderUrl}/replication/stream?from_lsn=${wal.lastLsn + 1}&head=${toHex(wal.chainHead)}`
      const response = await fetch(url, { headers: standbyRequestHeaders(this.options.token), signal: AbortSignal.any([abort.signal, this.signal]) })
      if (response.status === 409) {
        const body = refusalOf(await answerText(response))
        if (body.error?.code === 'DIVERGED') {
          this.stopped = true
          this.options.onDiverged({ leaderUrl, message: body.error.message ?? 'diverged', leaderLastLsn: body.error.details?.leader_last_lsn ?? 0 })
          return
        }
        const onResyncRequired = this.options.onResyncRequired
        if (body.error?.code === 'RESYNC_REQUIRED' && onResyncRequired !== undefined) {
          this.stopped = true
          onResyncRequired({ leaderUrl, message: body.error.message ?? 'resync required', leaderFirstLsn: body.error.details?.leader_first_lsn ?? 0 })
          return
        }
        throw new Error(`replication stream from ${leaderUrl}: ${body.error?.code ?? 409}: ${body.error?.message ?? ''}`)
      }
      if (!response.ok || response.body === null) throw new Error(`replication stream from ${leaderUrl} answered ${response.status}: ${await answerText(response)}`)
      this.state.connected = true
      const epoch = leaderEpochOf(response)
      const reader = new EnvelopeReader({ envelopeBytesMax: this.options.envelopeBytesMax })
      // An append's frames are written only once its last has come (whole-appends.ts): this log, the engine, snapshots,
      // acknowledgements and the lease floor never stand inside one. A new stream starts after the last whole append.
      const whole = new WholeAppends(wal.options.batchBytesMax)
      for await (const received of response.body) {
        // A whole envelope (a heartbeat at least) says the leader is alive, and so do SILENCE_PROGRESS_BYTES taken
        // within silenceMsMax (a large envelope on a slow link: restarted by envelopes alone, the standby dropped it
        // mid-way, was sent it again and never caught up). Restarted by any bytes, the timer let a leader trickling an
        // envelope a byte at a time (or bytes that never make one) hold this standby, never noticed.
        bytesSinceArmed += received.byteLength
        if (bytesSinceArmed >= SILENCE_PROGRESS_BYTES) armSilence()
        for (const envelope of reader.push(received)) {
          armSilence()
          if (envelope.frames.byteLength > 0) {
            for (const chunk of whole.take(envelope.frames)) await wal.appendFrames(chunk, { epochCeiling: this.options.epochCeiling })
          }
          // appendFrames resolved: the frames are durable here (per the replica's durability), so say so.
          this.acks.offer({ url: leaderUrl, lsn: wal.lastLsn, epoch })
          this.state.leaderLastLsn = envelope.leaderLastLsn
          this.state.lastContactMs = Date.now()
          this.progressed = true
        }
        if (this.stopped) break
      }
      throw new Error(`replication stream from ${leaderUrl} ended`)
    } finally {
      if (silence !== null) clearTimeout(silence)
      this.state.connected = false
    }
  }
}

/** The epoch the stream's leader names (LEADER_EPOCH_HEADER), or null when it names none (a build older than it). */
function leaderEpochOf(response: Response): number | null {
  const text = response.headers.get(LEADER_EPOCH_HEADER)
  const epoch = text === null || !/^[1-9][0-9]{0,9}$/.test(text) ? null : Number(text)
  return epoch
}

interface Ack {
  url: string
  lsn: number
  /** The epoch of the leader whose stream the LSN was appended from; null: that leader named none. */
  epoch: number | null
}

/** Acknowledgements to the leader: one POST in flight at most; while it is, only the newest LSN is kept. */
class AckSender {
  private next: Ack | null = null
  private sending = false

  constructor(
    private readonly token: string,
    private readonly nodeId: string,
    private readonly timeoutMs: number,
    /** The replicator's signal now: an acknowledgement in flight ends when it stops. */
    private readonly signal: () => AbortSignal,
  ) {}

  offer(ack: Ack): void {
    this.next = ack
    if (!this.sending) void this.drain()
  }

  private async drain(): Promise<void> {
    this.sending = true
    try {
      while (this.next !== null) {
        const { url, lsn, epoch } = this.next
        this.next = null
        // One controller per acknowledgement, its timer cleared when the POST ends: AbortSignal.timeout's timer (and
        // AbortSignal.any's signal with it, ~1 KB) lived the whole timeout after each acknowledgement, one per envelope.
        const abort = new AbortController()
        const outer = this.signal()
        const stop = (): void => abort.abort(outer.reason)
        const timer = setTimeout(() => abort.abort(new DOMException('acknowledgement timed out', 'TimeoutError')), this.timeoutMs)
        if (outer.aborted) stop()
        else outer.addEventListener('abort', stop, { once: true })
        await fetch(`${url}/replication/ack`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(epoch === null ? { lsn, node_id: this.nodeId } : { lsn, epoch, node_id: this.nodeId }),
          signal: abort.signal,
        })
          .then((response) => response.body?.cancel(), () => {
            // A lost acknowledgement is repaired by the next one (every envelope, heartbeats included, sends one).
          })
          .finally(() => {
            clearTimeout(timer)
            outer.removeEventListener('abort', stop)
          })
      }
    } finally {
      this.sending = false
    }
  }
}

/** Sleeps `ms`, or less if `signal` aborts meanwhile (never rejects). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

interface StreamRefusalBody {
  error?: { code?: string; message?: string; details?: { leader_last_lsn?: number; leader_first_lsn?: number } }
}

/** A 409's error body as the leader writes it; anything else (not JSON, cut at the read bound) as no known refusal. */
function refusalOf(text: string): StreamRefusalBody {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null ? (parsed as StreamRefusalBody) : {}
  } catch {
    return { error: { message: text.slice(0, 200) } }
  }
}
