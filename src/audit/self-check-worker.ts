/**
 * The self-check's thread (own event loop, own heap): holds two SelfChecks — the tail check, which follows the durable
 * end, and the sweep, which re-reads what the tail check passed (self-check-sweep.ts) — and runs each over the slices
 * of the log the gateway names for it (self-check-thread.ts), reading the segment files itself. Its reads, hashing and garbage stay off
 * the gateway's event loop: there, paced to a quarter of the loop, a check after 30 s of bench:http traffic took
 * ~1.4 s of the main thread's CPU and stretched over several seconds of intake.
 *
 * One request at a time, in order. A check reads the whole slice (in chunks of READ_CHUNK_BYTES), in calls of
 * RECORDS_PER_CALL records so a finding's seal signatures settle as the check goes. A finding is sticky, as in
 * SelfCheck: every later request answers it again. At the end of a slice, a finding-free check compares the head it
 * re-derived with the one the gateway knows there (the writer's, or for a sweep the tail check's).
 */

import { openSlice, type Frame, type LogSlice, type SliceLog } from '../../wal/index.ts'
import { announceThreadPriority } from '../runtime/thread-hello.ts'
import { keyResolverOf } from './keys.ts'
import { SelfCheck, type CheckableLog } from './self-check.ts'
import type { SelfCheckReply, SelfCheckRequest, SelfCheckerName } from './self-check-messages.ts'

declare const self: Worker

// Gives way to the event loop and the gateway's other threads (src/runtime/thread-priority.ts), and says so.
announceThreadPriority(self)

/** The reader's chunk: a thread of its own reads long stretches, not a few hundred records at a time. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024
const RECORDS_PER_CALL = 65_536

/** The slice now being checked, read as the SelfCheck reads a live log. */
class SliceCheckableLog implements CheckableLog {
  dir = ''
  private slice: LogSlice | null = null
  private reader: SliceLog | null = null

  show(dir: string, slice: LogSlice): void {
    this.dir = dir
    this.slice = slice
    this.reader = openSlice(slice)
  }

  get firstLsn(): number {
    return this.reader?.firstLsn ?? 1
  }

  get lastLsn(): number {
    return this.slice?.toLsn ?? 0
  }

  get segments(): LogSlice['segments'] {
    return this.slice?.segments ?? []
  }

  /** Whether a segment of the slice was removed (compaction) before it was read. */
  get removed(): boolean {
    return this.reader !== null && this.reader.firstLsn === Number.MAX_SAFE_INTEGER
  }

  read(fromLsn: number, options: { toLsn?: number; chunkBytes?: number } = {}): Iterable<Frame> {
    if (this.reader === null) return []
    return this.reader.read(fromLsn, { ...(options.toLsn === undefined ? {} : { toLsn: options.toLsn }), chunkBytes: options.chunkBytes ?? READ_CHUNK_BYTES })
  }
}

/** The thread's two checks (self-check-messages.ts): each reads its own slices with its own SelfCheck. */
class Checker {
  readonly log = new SliceCheckableLog()
  check: SelfCheck | null = null
}
const checkers: Record<SelfCheckerName, Checker> = { tail: new Checker(), sweep: new Checker() }

async function answer(request: SelfCheckRequest): Promise<SelfCheckReply> {
  const checker = checkers[request.checker]
  const log = checker.log
  let check = checker.check
  try {
    if (request.start !== null) {
      const { lsn, chainHead, previousSealLsn, keys } = request.start
      check = new SelfCheck(log, { keys: keys === null ? null : await keyResolverOf(keys), from: { lsn, chainHead, previousSealLsn }, recordsPerCheckMax: RECORDS_PER_CALL, readChunkBytes: READ_CHUNK_BYTES })
      checker.check = check
    }
    if (check === null) return { id: request.id, ok: false, message: 'the self-check thread was asked to check before it was started' }
    if (request.slice.fromLsn > check.verifiedThroughLsn + 1) {
      return { id: request.id, ok: false, removed: true, message: `the log no longer holds LSN ${check.verifiedThroughLsn + 1} (removed before the self-check reached it)` }
    }
    log.show(request.dir, request.slice)
    let finding = await check.check()
    while (finding === null && check.verifiedThroughLsn < request.slice.toLsn) {
      const before = check.verifiedThroughLsn
      finding = await check.check()
      if (check.verifiedThroughLsn === before) break
    }
    if (log.removed) return removedUnder(request, checker)
    if (finding === null && request.expectedHead !== null && check.verifiedThroughLsn === request.slice.toLsn) finding = check.expectHead(request.slice.toLsn, request.expectedHead)
    return { id: request.id, ok: true, finding, verifiedLsn: check.verifiedThroughLsn, verifiedHead: check.verifiedHead, sealsChecked: check.sealsChecked, previousSealLsn: check.previousSealLsn }
  } catch (error) {
    if (log.removed) return removedUnder(request, checker)
    return { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * A segment of the slice was removed (compaction) before it was read: what the check made of the missing bytes is not
 * a finding, and its SelfCheck (which keeps a finding) is dropped; the gateway starts a new one.
 */
function removedUnder(request: SelfCheckRequest, checker: Checker): SelfCheckReply {
  checker.check = null
  return { id: request.id, ok: false, removed: true, message: `a segment of LSNs ${request.slice.fromLsn}..${request.slice.toLsn} was removed before the self-check read it; not a finding` }
}

let tail: Promise<unknown> = Promise.resolve()
self.onmessage = (event: MessageEvent<SelfCheckRequest>) => {
  const request = event.data
  // answer() never throws; a reply that cannot be posted is the gateway's to notice (its thread is lost), and the
  // requests after it still go.
  tail = tail.then(async () => self.postMessage(await answer(request))).catch(() => undefined)
}
