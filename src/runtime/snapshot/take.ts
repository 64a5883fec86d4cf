/**
 * Taking a snapshot of a running engine. The state is encoded synchronously — JavaScript runs nothing else meanwhile,
 * so that encode is the whole intake pause and the state is consistent at `state.lastLsn` — then the writer waits
 * until that LSN is durable in the log (memory may run a group-commit batch ahead of disk), reads the chain head at
 * it, and writes the file crash-safely. A log that dies before that LSN is durable gets no snapshot.
 */

import type { Engine } from '../engine.ts'
import { encodeSnapshot, KERNEL_SECTION } from './file.ts'
import { chainHeadAt } from './load.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytes } from './state-codec.ts'
import type { ManifestEntry, SnapshotStore } from './store.ts'

/** Another projection's contribution, captured in the same synchronous step as the kernel state. */
export interface SnapshotSectionSource {
  name: string
  capture(): Uint8Array
}

export interface SnapshotTaken extends ManifestEntry {
  path: string
  /** Time intake was paused: the synchronous capture of every section. */
  pauseMs: number
  /** Waiting for durability, hashing and the crash-safe write (intake running). */
  writeMs: number
  totalMs: number
}

export interface TakeOptions {
  nowMs: number
  sections?: readonly SnapshotSectionSource[]
}

/** Takes a snapshot at the engine's current LSN; null when there is nothing new since the newest one (or no state). */
export async function takeSnapshot(engine: Engine, store: SnapshotStore, options: TakeOptions): Promise<SnapshotTaken | null> {
  const started = performance.now()
  const lsn = engine.state.lastLsn
  if (lsn === 0 || store.candidates()[0]?.lsn === lsn) return null
  const sections = new Map<string, Uint8Array>([[KERNEL_SECTION, kernelStateBytes(engine.state)]])
  for (const source of options.sections ?? []) sections.set(source.name, source.capture())
  const pauseMs = performance.now() - started
  await durableThrough(engine, lsn)
  const chainHead = chainHeadAt(engine.wal, lsn)
  const encoded = encodeSnapshot({ lsn, chainHead, createdAtMs: options.nowMs, kernelSchema: KERNEL_STATE_SCHEMA }, sections)
  const entry = store.write(encoded)
  const totalMs = performance.now() - started
  return { ...entry, path: `${store.dir}/${entry.file}`, pauseMs, writeMs: totalMs - pauseMs, totalMs }
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
