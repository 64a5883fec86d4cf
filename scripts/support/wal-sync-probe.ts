/**
 * A probe to preload into serve (BENCH_SERVE_PRELOAD for bench:http): for every WAL batch synced during the half-load
 * phase (from SIGUSR2 for 3 s), how long its fdatasync took to come back to the event loop, and whether the loop was
 * free meanwhile. A 1 ms interval ticks beside it; the longest gap between ticks inside a slow sync tells the two
 * causes apart: the disk (the loop kept ticking, `gap` small) or the loop itself (the callback waited behind
 * JavaScript or a collection, `gap` ≈ the wait). At exit it prints the distribution and the slow batches to stderr as
 * `seconds:sync ms/longest loop gap ms/records`.
 *
 * Patches `nodeIo.fdatasyncOffLoop` (the off-loop sync every batch uses) and reads each batch's record count from the
 * group commit's queue as the batch is taken: a diagnostic, never loaded by the gateway itself.
 */

import { GroupCommit } from '../../wal/group-commit.ts'
import { nodeIo } from '../../wal/io.ts'

const PHASE_MS = 3_000
const SLOW_SYNC_MS = 5
const SLOW_PRINTED_MAX = 40

interface SyncedBatch {
  issuedAtMs: number
  syncMs: number
  records: number
}

const startMs = performance.now()
let measuring = false
const batches: SyncedBatch[] = []
const ticksMs: number[] = []
let recordsTaken = 0

// The batch just taken is the one whose fdatasync is issued next (group-commit.ts: flush → takeBatch → write → sync).
const prototype = GroupCommit.prototype as unknown as { takeBatch: () => { records: unknown[] }[] }
const takeBatch = prototype.takeBatch
prototype.takeBatch = function (this: GroupCommit) {
  const batch = takeBatch.call(this)
  recordsTaken = batch.reduce((sum, pending) => sum + pending.records.length, 0)
  return batch
}

const fdatasyncOffLoop = nodeIo.fdatasyncOffLoop
nodeIo.fdatasyncOffLoop = (fd, done) => {
  const issuedMs = performance.now()
  const records = recordsTaken
  fdatasyncOffLoop(fd, (error) => {
    if (measuring) batches.push({ issuedAtMs: issuedMs - startMs, syncMs: performance.now() - issuedMs, records })
    done(error)
  })
}

setInterval(() => {
  if (measuring) ticksMs.push(performance.now() - startMs)
}, 1).unref()

process.on('SIGUSR2', () => {
  measuring = true
  setTimeout(() => (measuring = false), PHASE_MS).unref()
})

/** The longest stretch inside [fromMs, toMs] with no interval tick: how long the loop was held meanwhile. */
function longestGapMs(fromMs: number, toMs: number): number {
  let previousMs = fromMs
  let longest = 0
  for (const tickMs of ticksMs) {
    if (tickMs < fromMs) continue
    if (tickMs > toMs) break
    longest = Math.max(longest, tickMs - previousMs)
    previousMs = tickMs
  }
  return Math.max(longest, toMs - previousMs)
}

function quantile(values: number[], q: number): string {
  const sorted = values.slice().sort((a, b) => a - b)
  return (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN).toFixed(2)
}

process.on('exit', () => {
  const syncs = batches.map((batch) => batch.syncMs)
  const slow = batches
    .filter((batch) => batch.syncMs > SLOW_SYNC_MS)
    .map((batch) => ({ ...batch, gapMs: longestGapMs(batch.issuedAtMs, batch.issuedAtMs + batch.syncMs) }))
  const loopHeld = slow.filter((batch) => batch.gapMs > batch.syncMs / 2)
  process.stderr.write(
    `wal-sync-probe: ${batches.length} batches; sync→callback ms p50 ${quantile(syncs, 0.5)} p90 ${quantile(syncs, 0.9)} p99 ${quantile(syncs, 0.99)}; ` +
      `records per batch p50 ${quantile(batches.map((batch) => batch.records), 0.5)} max ${Math.max(0, ...batches.map((batch) => batch.records))}; ` +
      `${slow.length} over ${SLOW_SYNC_MS} ms, ${loopHeld.length} of them with the event loop held for over half the wait\n`,
  )
  const described = slow
    .slice(0, SLOW_PRINTED_MAX)
    .map((batch) => `${(batch.issuedAtMs / 1000).toFixed(3)}:${batch.syncMs.toFixed(1)}/${batch.gapMs.toFixed(1)}/${batch.records}`)
  process.stderr.write(`wal-sync-probe: slow batches (s:sync ms/longest loop gap ms/records) ${described.join(' ')}\n`)
})
