/**
 * LogFixSessionStore: the FixSessionStore the gateway runs with — a session's sequence numbers kept in the gateway's
 * own write-ahead log, so they agree with the order state after a crash and there is no second store.
 *
 * Each save appends one `fix.seq_nums` record (type 0xC001, JSON `{ venue, nextSenderSeqNum, nextTargetSeqNum }`)
 * through the engine, in log order with everything else, and resolves once it is durable. Codes from 0xC000 up to
 * 0xC0FF are this folder's: they sit in the range the kernel does not fold (≥ 0xA000, src/runtime/records.ts) and
 * audit reads only its own codes among them. Loading scans the log back from the end, a chunk at a time (yielding), for the
 * newest record of this venue: the newest, not the highest, because a session that resets (ResetSeqNumFlag=Y) moves
 * its numbers down.
 *
 * Compaction may remove the segments that held the last record. The store's numbers are therefore also a snapshot
 * section (`capture`, `sectionName`): when the log after the compaction point holds no record of the venue, the
 * numbers in the snapshot the gateway restored from are the newest there are.
 *
 * This file imports nothing from the runtime: the caller hands it an `append` and a `read` over the log.
 */

import { FIX_SEQ_NUM_MAX as SEQ_NUM_MAX, FRESH_SEQ_NUMS, type FixSeqNums, type FixSessionStore } from './store.ts'

export const FIX_SEQ_NUMS_RECORD = { type: 0xc001, version: 1, name: 'fix.seq_nums' } as const

/** A record as the log takes it (the shape of wal's RecordInput). */
export interface FixLogRecord {
  type: number
  version: number
  payload: Uint8Array
}

/** A record as the log gives it back. */
export interface FixLogFrame extends FixLogRecord {
  lsn: number
}

/** The slice of the gateway's log the store needs. */
export interface FixSeqNumLog {
  /** Appends in log order and resolves once durable (the engine's `appendRecords`). */
  append(records: FixLogRecord[]): Promise<number[]>
  /** Durable frames with `fromLsn ≤ lsn ≤ toLsn`, in LSN order. */
  read(fromLsn: number, toLsn: number): Iterable<FixLogFrame>
  /** The oldest LSN still in the log and the last durable one (0 for an empty log). */
  bounds(): { firstLsn: number; lastLsn: number }
}

export interface LogFixSessionStoreOptions {
  /** The venue name the records carry: several FIX venues share one log. */
  venue: string
  log: FixSeqNumLog
  /**
   * This store's snapshot section in the snapshot the gateway restored from, if any; asked at `load` (the gateway may
   * restore after the store was built).
   */
  restoredSection?: () => Uint8Array | undefined
  /** Records read per step of the backward scan; bounds what one step holds in memory and the event loop. */
  scanChunkRecords?: number
  /** Yields to the event loop between two steps of `load`'s scan (default: setImmediate). */
  pause?: () => Promise<void>
}

const SCAN_CHUNK_RECORDS_DEFAULT = 4_096

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export class LogFixSessionStore implements FixSessionStore {
  readonly venue: string
  readonly #log: FixSeqNumLog
  readonly #restoredSection: () => Uint8Array | undefined
  #restored: FixSeqNums | null = null
  readonly #scanChunkRecords: number
  readonly #pause: () => Promise<void>
  /** `load` under way or done (one scan, however often asked: the session, a snapshot's finisher). */
  #loading: Promise<FixSeqNums> | null = null
  /** The numbers of the newest record this store knows of (loaded or saved); null before `load`. */
  #durable: FixSeqNums | null = null
  /**
   * The save under way (one at a time: the session orders them), its LSN set once durable; `after`: the log's last
   * durable LSN when it began — its record comes after it.
   */
  #saving: { seqNums: FixSeqNums; lsn: number | null; after: number } | null = null
  /** Where `load` found its numbers, for the start log line and tests. */
  loadedFrom: 'log' | 'snapshot' | 'fresh' | null = null

  constructor(options: LogFixSessionStoreOptions) {
    const chunk = options.scanChunkRecords ?? SCAN_CHUNK_RECORDS_DEFAULT
    if (!Number.isSafeInteger(chunk) || chunk < 1) throw new RangeError(`scanChunkRecords must be an integer ≥ 1, got ${chunk}`)
    this.venue = options.venue
    this.#log = options.log
    this.#scanChunkRecords = chunk
    this.#restoredSection = options.restoredSection ?? (() => undefined)
    this.#pause = options.pause ?? (() => new Promise<void>((resolve) => setImmediate(resolve)))
  }

  /** The snapshot section this store's numbers travel in. */
  static sectionName(venue: string): string {
    return `fix-session:${venue}`
  }

  /**
   * The venue's newest numbers, scanned back from the log's end a chunk at a time with a yield between chunks: a venue
   * with no record scans the whole log, and a synchronous scan held the event loop for it.
   */
  load(): Promise<FixSeqNums> {
    this.#loading ??= this.#load()
    return this.#loading.then((seqNums) => ({ ...seqNums }))
  }

  async #load(): Promise<FixSeqNums> {
    const section = this.#restoredSection()
    this.#restored = section === undefined ? null : decodeOwn(section, this.venue, `snapshot section ${LogFixSessionStore.sectionName(this.venue)}`)
    const { firstLsn, lastLsn } = this.#log.bounds()
    let found: FixSeqNums | null = null
    for (const [fromLsn, toLsn] of chunksBack(firstLsn, lastLsn, this.#scanChunkRecords)) {
      // Compaction between two chunks removes only what a snapshot holding these numbers covers (capture waits for us).
      found = this.#newestInChunk(Math.max(fromLsn, this.#log.bounds().firstLsn), toLsn)?.seqNums ?? null
      if (found !== null) break
      await this.#pause()
    }
    const seqNums = found ?? this.#restored ?? FRESH_SEQ_NUMS
    this.loadedFrom = found !== null ? 'log' : this.#restored !== null ? 'snapshot' : 'fresh'
    this.#durable = { ...seqNums }
    return seqNums
  }

  async save(seqNums: FixSeqNums): Promise<void> {
    const record = encodeFixSeqNumsRecord(this.venue, seqNums)
    const saving = { seqNums: { ...seqNums }, lsn: null as number | null, after: this.#log.bounds().lastLsn }
    this.#saving = saving
    try {
      const [lsn] = await this.#log.append([record])
      saving.lsn = lsn ?? null
      this.#durable = { ...seqNums }
    } finally {
      if (this.#saving === saving) this.#saving = null
    }
  }

  /**
   * The snapshot section: the numbers of the venue's newest record at or below the snapshot's LSN. Taken from what was
   * durable at the capture, a save under way then — its record below the snapshot's LSN, durable by the time the
   * snapshot is written, its promise not yet settled — was left out: a compaction through the snapshot removed that
   * record, and a restart before the next save took the older numbers and logged on with a number the venue had seen
   * ("MsgSeqNum too low", the session down for good). A save under way is settled once the snapshot's LSN is durable
   * (the finisher): its record is in the section if it is at or below the LSN. Not settled within a turn, its record
   * is looked for after the log's end when the save began (nowhere before), a chunk at a time with a pause between:
   * scanning from the last durable record — LSN 0 when none was saved since the start — held the event loop over the
   * whole log.
   */
  capture(): Uint8Array | ((lsn: number, pause: () => Promise<void>) => Promise<Uint8Array>) {
    // Not loaded yet (the session waits for its schedule, or its load is under way): the numbers are the log's newest,
    // not fresh ones — a section of 1/1 let a compaction through the snapshot remove the record, and a restart logged on
    // with 1. No save comes before the load, so the newest record is at or below the snapshot's LSN.
    if (this.#durable === null) return async () => encodeFixSeqNumsRecord(this.venue, await this.load()).payload
    const durable = this.#durable
    const saving = this.#saving
    if (saving === null) return encodeFixSeqNumsRecord(this.venue, durable).payload
    return async (lsn, pause) => {
      // Every record up to `lsn` is durable now; the save's promise settles within a turn if its record is one of them.
      if (saving.lsn === null) await pause()
      // A record of the venue after the save began can only be its own (saves are one at a time).
      let inIt = saving.lsn === null ? null : saving.lsn <= lsn
      for (const [fromLsn, toLsn] of chunksBack(Math.max(saving.after + 1, this.#log.bounds().firstLsn), lsn, this.#scanChunkRecords)) {
        if (inIt !== null) break
        if (this.#newestInChunk(fromLsn, toLsn) !== null) inIt = true
        else await pause()
        // Settled meanwhile: its LSN says.
        if (inIt === null && saving.lsn !== null) inIt = saving.lsn <= lsn
      }
      return encodeFixSeqNumsRecord(this.venue, inIt === true ? saving.seqNums : durable).payload
    }
  }

  #newestInChunk(fromLsn: number, toLsn: number): { seqNums: FixSeqNums; lsn: number } | null {
    let newest: { seqNums: FixSeqNums; lsn: number } | null = null
    for (const frame of this.#log.read(fromLsn, toLsn)) {
      if (frame.type !== FIX_SEQ_NUMS_RECORD.type) continue
      const decoded = decodeFixSeqNumsRecord(frame)
      if (decoded.venue === this.venue) newest = { seqNums: decoded.seqNums, lsn: frame.lsn }
    }
    return newest
  }
}

/** `firstLsn..lastLsn` in ranges of at most `size` LSNs, from its end back (LSNs start at 1). */
function* chunksBack(firstLsn: number, lastLsn: number, size: number): Generator<[number, number]> {
  for (let toLsn = lastLsn; toLsn >= firstLsn && toLsn > 0; toLsn -= size) yield [Math.max(firstLsn, toLsn - size + 1), toLsn]
}

/** The record for a save; checks the numbers before they are written (and `decode` checks them again on the way back). */
export function encodeFixSeqNumsRecord(venue: string, seqNums: FixSeqNums): FixLogRecord {
  checkSeqNums(seqNums, `saving the ${venue} session's numbers`)
  const payload = { venue, nextSenderSeqNum: seqNums.nextSenderSeqNum, nextTargetSeqNum: seqNums.nextTargetSeqNum }
  return { type: FIX_SEQ_NUMS_RECORD.type, version: FIX_SEQ_NUMS_RECORD.version, payload: encoder.encode(JSON.stringify(payload)) }
}

/** Reads a `fix.seq_nums` record back. Throws on anything else: the log's CRC passed, so a bad payload is a bug. */
export function decodeFixSeqNumsRecord(frame: FixLogRecord & { lsn?: number }): { venue: string; seqNums: FixSeqNums } {
  const where = frame.lsn === undefined ? 'fix.seq_nums record' : `fix.seq_nums record at LSN ${frame.lsn}`
  if (frame.type !== FIX_SEQ_NUMS_RECORD.type || frame.version !== FIX_SEQ_NUMS_RECORD.version) {
    throw new Error(`${where}: expected type 0x${FIX_SEQ_NUMS_RECORD.type.toString(16)} v${FIX_SEQ_NUMS_RECORD.version}, got 0x${frame.type.toString(16)} v${frame.version}`)
  }
  return decodePayload(frame.payload, where)
}

function decodeOwn(payload: Uint8Array, venue: string, where: string): FixSeqNums {
  const decoded = decodePayload(payload, where)
  if (decoded.venue !== venue) throw new Error(`${where}: expected venue ${JSON.stringify(venue)}, got ${JSON.stringify(decoded.venue)}`)
  return decoded.seqNums
}

function decodePayload(payload: Uint8Array, where: string): { venue: string; seqNums: FixSeqNums } {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(payload))
  } catch (error: unknown) {
    throw new Error(`${where}: payload is not UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: expected a JSON object`)
  const { venue, nextSenderSeqNum, nextTargetSeqNum } = value as Record<string, unknown>
  if (typeof venue !== 'string' || venue.length === 0) throw new Error(`${where}: expected a non-empty venue, got ${JSON.stringify(venue)}`)
  const seqNums = { nextSenderSeqNum, nextTargetSeqNum } as FixSeqNums
  checkSeqNums(seqNums, where)
  return { venue, seqNums }
}

function checkSeqNums(seqNums: FixSeqNums, where: string): void {
  for (const name of ['nextSenderSeqNum', 'nextTargetSeqNum'] as const) {
    const value: unknown = seqNums[name]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > SEQ_NUM_MAX) {
      throw new Error(`${where}: ${name} must be an integer in [1, ${SEQ_NUM_MAX}], got ${JSON.stringify(value)}`)
    }
  }
}
