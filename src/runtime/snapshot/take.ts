/**
 * Taking a snapshot of a running engine. The state is captured synchronously by a deep copy (cloneState: each
 * GenerationalMap copied generation by generation, its filters copied, each order copied into it) — nothing
 * else runs meanwhile, so the copy is consistent at `state.lastLsn`, and that copy is the intake pause. The copy is
 * then encoded in slices, yielding to the event loop between them, so intake keeps flowing; the writer waits until
 * the LSN is durable in the log (memory may run a group-commit batch ahead of disk), reads the chain head at it, and
 * writes the file crash-safely, its bytes written and fsynced off the event loop (store-write.ts). A log that dies
 * before that LSN is durable gets no snapshot. A node holding the audit seal key signs the snapshot's LSN, chain head
 * and content digest (`sealWith`), and the seal is written beside the file (seal-file.ts) before the manifest names it.
 *
 * `pauseMs` is the capture; `blockMsMax` the longest stretch the snapshot held the event loop at any point
 * (capture, an encode slice, hashing, the rename and manifest after the write) — what a request arriving meanwhile
 * waits at most.
 */

import { join } from 'node:path'
import { cloneState } from '../../kernel/index.ts'
import type { Engine } from '../engine.ts'
import { KERNEL_SECTION, snapshotEncodeSteps } from './file.ts'
import { chainHeadAt, isUsableAt } from './load.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytesSliced } from './state-codec.ts'
import type { ManifestEntry, SnapshotStore } from './store.ts'

/**
 * Finishes a section at the snapshot's LSN once that LSN is durable (the back office brings its copy forward from
 * the log and copies its query model). `pause` yields to the event loop and is counted in the snapshot's blockMsMax.
 */
export type SectionFinisher = (lsn: number, pause: () => Promise<void>) => Promise<Uint8Array>

/** Signs a snapshot's seal over its LSN, chain head, content digest and the log's epoch (Sealer.signSnapshot); resolves to the JWS. */
export type SnapshotSealer = (snapshot: { lsn: number; chainHead: string; digest: string; epoch: number }) => Promise<string>

/**
 * Another projection's contribution, captured in the same synchronous step as the kernel state: its bytes, a
 * finisher to run once the snapshot's LSN is durable, or null to leave the section out of this snapshot.
 */
export interface SnapshotSectionSource {
  name: string
  capture(): Uint8Array | SectionFinisher | null
  /**
   * False while the projection is not open yet (the back office opens right after the gateway starts): no snapshot
   * is taken meanwhile, so none can lack the section and later become the basis of a compaction that loses it.
   */
  ready?(): boolean
}

export interface SnapshotTaken extends ManifestEntry {
  path: string
  /** Time intake was paused: the synchronous capture of every section. */
  pauseMs: number
  /** The longest single stretch the snapshot held the event loop (capture, an encode slice, hashing, the rename and manifest). */
  blockMsMax: number
  /** Waiting for durability, hashing and the crash-safe write (intake running). */
  writeMs: number
  totalMs: number
}

export interface TakeOptions {
  nowMs: number
  sections?: readonly SnapshotSectionSource[]
  /** Map entries encoded between two yields to the event loop (default 5,000). */
  entriesPerSlice?: number
  /** Told at each step done (an encode slice, a section's step, a piece of the file written or fsynced, the file durable): a stop's bound watches it (Snapshotter.progress). */
  onStep?: () => void
  /** Bytes of the file written and fsynced by one off-loop call each (default store-write.ts PIECE_BYTES_DEFAULT). */
  pieceBytes?: number
  /** Seals the snapshot (absent: it is written unsealed). */
  sealWith?: SnapshotSealer
}

const ENTRIES_PER_SLICE_DEFAULT = 5_000
/** Bytes of the file hashed or copied between two yields (~8 ms). */
const FILE_BYTES_PER_SLICE = 8 << 20

/**
 * Takes a snapshot at the engine's current LSN; null when there is nothing new since the newest one (or no state), or
 * a section's projection is not open yet. A newest file at this LSN that is damaged, or intact but not one a start
 * would use (load.ts isUsableAt), does not count: it is replaced.
 */
export async function takeSnapshot(engine: Engine, store: SnapshotStore, options: TakeOptions): Promise<SnapshotTaken | null> {
  const started = performance.now()
  const lsn = engine.state.lastLsn
  const newest = store.candidates()[0]
  if (lsn === 0 || (newest?.lsn === lsn && isUsableAt(store, newest, engine.wal))) return null
  if ((options.sections ?? []).some((source) => source.ready?.() === false)) return null
  const meter = blockMeter(options.onStep)
  const captured = cloneState(engine.state)
  const captures = (options.sections ?? []).map((source) => [source.name, source.capture()] as const)
  const pauseMs = performance.now() - started
  const kernel = await kernelStateBytesSliced(captured, { entriesPerSlice: options.entriesPerSlice ?? ENTRIES_PER_SLICE_DEFAULT, pause: meter.pause })
  await meter.pause()
  await durableThrough(engine, lsn)
  meter.resume()
  const chainHead = chainHeadAt(engine.wal, lsn)
  const sections = new Map<string, Uint8Array>([[KERNEL_SECTION, kernel]])
  for (const [name, captured] of captures) {
    if (captured === null) continue
    sections.set(name, typeof captured === 'function' ? await captured(lsn, meter.pause) : captured)
    await meter.pause()
  }
  const encoding = snapshotEncodeSteps({ lsn, chainHead, createdAtMs: options.nowMs, kernelSchema: KERNEL_STATE_SCHEMA }, sections, FILE_BYTES_PER_SLICE)
  let step = encoding.next()
  for (; step.done !== true; step = encoding.next()) await meter.pause()
  const encoded = step.value
  await meter.pause()
  const seal = options.sealWith === undefined ? {} : { seal: await options.sealWith({ lsn, chainHead, digest: encoded.digest, epoch: engine.wal.epoch }) }
  // Written and fsynced off the event loop, piece by piece, each call a step (store-write.ts).
  const entry = await store.writeOffLoop({ ...encoded, ...seal }, { wait: meter.wait, ...(options.pieceBytes === undefined ? {} : { pieceBytes: options.pieceBytes }) })
  options.onStep?.()
  const blockMsMax = meter.stop()
  const totalMs = performance.now() - started
  return { ...entry, path: join(store.dir, entry.file), pauseMs, blockMsMax, writeMs: totalMs - pauseMs, totalMs }
}

/**
 * Measures the stretches between yields to the event loop; `pause` yields (setImmediate) and records the stretch, a
 * step done: `onStep` is told before the yield, so a timer that fires after a long stretch already sees the step.
 * `wait` is the same around a call off the loop (a piece of the file's write), the loop free until it completes.
 */
function blockMeter(onStep: (() => void) | undefined): { pause: () => Promise<void>; wait: (call: Promise<void>) => Promise<void>; resume: () => void; stop: () => number } {
  let since = performance.now()
  let longest = 0
  const close = (): void => {
    longest = Math.max(longest, performance.now() - since)
  }
  return {
    pause: async () => {
      close()
      onStep?.()
      await new Promise<void>((resolve) => setImmediate(resolve))
      since = performance.now()
    },
    wait: async (call) => {
      close()
      onStep?.()
      try {
        await call
      } finally {
        since = performance.now()
      }
    },
    resume: () => {
      since = performance.now()
    },
    stop: () => {
      close()
      return longest
    },
  }
}

/** Resolves once the log holds `lsn` durably; rejects if the log dies first. */
async function durableThrough(engine: Engine, lsn: number): Promise<void> {
  const { wal } = engine
  for (;;) {
    if (wal.fatalError !== null) throw wal.fatalError
    if (wal.lastLsn >= lsn) return
    let unsubscribe: () => void = () => undefined
    const committed = new Promise<void>((resolve) => {
      unsubscribe = wal.subscribe((batch) => {
        if (batch.lastLsn >= lsn) resolve()
      })
    })
    // settled() also resolves when the pending appends failed, so a dead log cannot leave this waiting forever.
    await Promise.race([committed, engine.settled()])
    unsubscribe()
    if (wal.fatalError === null && wal.lastLsn < lsn && engine.pending === 0) {
      throw new Error(`state is at LSN ${lsn} but the log settled at ${wal.lastLsn}: nothing to snapshot safely`)
    }
  }
}
