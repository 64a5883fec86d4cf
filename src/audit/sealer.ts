/**
 * The Sealer signs the chain head and appends the seal to the log: periodically (`maybeSeal`, every N records or T ms),
 * on demand (`sealNow`, for POST /v1/audit/anchor) and at clean shutdown. A seal signs the head at LSN x, read
 * synchronously together with x; the seal record itself lands after x (later if other appends were queued first).
 * Seals are serialised, so each one's prevSealLsn is the record LSN of the one before — the runtime tells the Sealer
 * about seals already in the log with `observe` (replay) or `findLastSeal` (at start).
 */

import type { Frame, RecordInput } from '../../wal/index.ts'
import { toHex } from '../../wal/index.ts'
import { assert } from '../domain/assert.ts'
import { loadSigningKey, type SealSigningKey } from './keys.ts'
import { AUDIT_SEAL, decodeSealRecord, sealRecord, type SealClaims } from './records.ts'
import { readSealUnverified, signSeal } from './seal.ts'
import { signSnapshotSeal, type SnapshotSealClaims } from './snapshot-seal.ts'

/** What the Sealer needs of a log; `Wal` satisfies it. */
export interface SealableLog {
  readonly lastLsn: number
  readonly chainHead: Uint8Array
  readonly epoch: number
  append(records: RecordInput[]): Promise<number[]>
}

export interface LastSeal {
  recordLsn: number
  sealedLsn: number
  sealedAtMs: number
}

export interface SealResult {
  recordLsn: number
  claims: SealClaims
  jws: string
}

export interface SealerOptions {
  signer: SealSigningKey
  /** Seal once this many records follow the last seal record. */
  everyRecords: number
  /** Seal once this long has passed since the last seal (and something was appended). */
  everyMs: number
  lastSeal?: LastSeal | null
}

export class Sealer {
  private readonly signer: SealSigningKey
  private readonly everyRecords: number
  private readonly everyMs: number
  private last: LastSeal | null
  private tail: Promise<unknown> = Promise.resolve()
  /** The seal waiting for the one before to finish (it has not read the head yet), shared by every call meanwhile. */
  private queued: { run: Promise<SealResult>; waiting: { nowMs: number } } | null = null
  /** The last seal this Sealer wrote (lastWritten). */
  private lastResult: SealResult | null = null
  private inFlight = false
  /** When the periodic clock started, for a log with no seal yet. */
  private startedAtMs: number | null = null

  constructor(options: SealerOptions) {
    assert(Number.isInteger(options.everyRecords) && options.everyRecords >= 1, 'everyRecords is a positive integer')
    assert(Number.isInteger(options.everyMs) && options.everyMs >= 1, 'everyMs is a positive integer')
    this.signer = options.signer
    this.everyRecords = options.everyRecords
    this.everyMs = options.everyMs
    this.last = options.lastSeal ?? null
  }

  static async fromKeyFile(path: string, options: Omit<SealerOptions, 'signer'>): Promise<Sealer> {
    return new Sealer({ ...options, signer: await loadSigningKey(path) })
  }

  get kid(): string {
    return this.signer.kid
  }

  /** The last seal this Sealer wrote itself, with its signature; null before its first (a seal observed is not one). */
  get lastWritten(): SealResult | null {
    return this.lastResult
  }

  get lastSeal(): LastSeal | null {
    return this.last === null ? null : { ...this.last }
  }

  /**
   * Signs a snapshot's seal (snapshot-seal.ts) with this Sealer's key: the snapshot's LSN, the chain head there and its
   * content digest, by the writer of `epoch`. Nothing is appended: the seal is stored beside the snapshot.
   */
  signSnapshot(snapshot: Omit<SnapshotSealClaims, 'sealedAtMs'>, nowMs: number): Promise<string> {
    return signSnapshotSeal({ ...snapshot, sealedAtMs: Math.trunc(nowMs) }, this.signer)
  }

  /** Learns a seal record already in the log (during replay, or written by a previous leader). */
  observe(frame: Pick<Frame, 'lsn' | 'type' | 'version' | 'payload'>): void {
    const seal = sealIn(frame)
    if (seal !== null && (this.last === null || seal.recordLsn > this.last.recordLsn)) this.last = seal
  }

  /** Is a periodic seal due? Never when nothing but the last seal itself was appended since. */
  due(log: SealableLog, nowMs: number): boolean {
    this.startedAtMs ??= nowMs
    const since = this.last?.recordLsn ?? 0
    if (log.lastLsn <= since || this.inFlight) return false
    if (log.lastLsn - since >= this.everyRecords) return true
    return nowMs - (this.last?.sealedAtMs ?? this.startedAtMs) >= this.everyMs
  }

  async maybeSeal(log: SealableLog, nowMs: number): Promise<SealResult | null> {
    return this.due(log, nowMs) ? this.sealNow(log, nowMs) : null
  }

  /**
   * Signs the current head and appends the seal; resolves once the seal record is durable. Bounded, as POST
   * /v1/audit/anchor calls it once per request: seals run one at a time, and a call while one waits to start shares
   * that one (it reads the head when it starts, so it covers every record before the call). Concurrent anchors queued
   * one seal each. (Whether there is anything new to seal is the caller's to know: AuditDuty.sealNow.)
   */
  sealNow(log: SealableLog, nowMs: number): Promise<SealResult> {
    if (this.queued !== null) {
      this.queued.waiting.nowMs = Math.max(this.queued.waiting.nowMs, nowMs)
      return this.queued.run
    }
    // Read when the seal starts: a later call sharing it raises it to its own time.
    const waiting = { nowMs }
    const run = this.tail.then(() => {
      this.queued = null
      return this.seal(log, waiting.nowMs)
    })
    this.queued = { run, waiting }
    this.tail = run.catch(() => undefined)
    return run
  }

  private async seal(log: SealableLog, nowMs: number): Promise<SealResult> {
    // Head and LSN are read in one synchronous step, so they describe the same durable position.
    const lsn = log.lastLsn
    const chainHead = toHex(log.chainHead)
    if (lsn < 1) throw new Error('the log is empty: there is no chain head to seal')
    this.inFlight = true
    try {
      const claims: SealClaims = { lsn, chainHead, epoch: log.epoch, sealedAtMs: Math.trunc(nowMs), prevSealLsn: this.last?.recordLsn ?? 0 }
      const jws = await signSeal(claims, this.signer)
      const [recordLsn] = await log.append([sealRecord(jws)])
      assert(recordLsn !== undefined && recordLsn > lsn, 'a seal record lands after the LSN it seals')
      this.last = { recordLsn, sealedLsn: lsn, sealedAtMs: claims.sealedAtMs }
      this.lastResult = { recordLsn, claims, jws }
      return this.lastResult
    } finally {
      this.inFlight = false
    }
  }
}

/** What findLastSeal reads of a log; `Wal` satisfies it. */
export interface ReadableLog {
  readonly firstLsn: number
  readonly lastLsn: number
  read(fromLsn: number, options?: { toLsn?: number }): Iterable<Frame>
}

export interface FindSealOptions {
  /** The last LSN looked at (default: the log's last): the seal found is at or before it. */
  throughLsn?: number
  /** Look at no more than this many records back from throughLsn (default: as far as the log goes). */
  recordsMax?: number
  /** The first window read; each further one is twice the size. */
  windowRecords?: number
}

/**
 * Reads records back from the end (or `throughLsn`) to find the last seal, in windows doubling back: for a Sealer at
 * start, and for a self-check starting at a snapshot (the seal before it, whose LSN the next seal must name).
 */
export function findLastSeal(log: ReadableLog, options: FindSealOptions = {}): LastSeal | null {
  let to = Math.min(log.lastLsn, options.throughLsn ?? log.lastLsn)
  const floor = Math.max(log.firstLsn, options.recordsMax === undefined ? log.firstLsn : to - options.recordsMax + 1)
  let window = options.windowRecords ?? 16_384
  while (to >= floor && to >= 1) {
    const from = Math.max(floor, to - window + 1)
    let found: LastSeal | null = null
    for (const frame of log.read(from, { toLsn: to })) found = sealIn(frame) ?? found
    if (found !== null) return found
    to = from - 1
    window *= 2
  }
  return null
}

/** The seal a frame carries, read without checking its signature (the self-check does that); null if none. */
function sealIn(frame: Pick<Frame, 'lsn' | 'type' | 'version' | 'payload'>): LastSeal | null {
  if (frame.type !== AUDIT_SEAL.type) return null
  const record = decodeSealRecord(frame.version, frame.payload)
  if (!record.ok) return null
  const read = readSealUnverified(record.value.jws)
  if (!read.ok) return null
  return { recordLsn: frame.lsn, sealedLsn: read.value.claims.lsn, sealedAtMs: read.value.claims.sealedAtMs }
}
