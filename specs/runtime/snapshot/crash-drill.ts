/**
 * The snapshot crash drill: a real gateway process (crash-child.ts) writing snapshots every few records is killed with
 * SIGKILL at a random moment, many times over one data directory. After every kill the directory is checked the way a
 * restart would see it: the newest snapshot still loads (no refused snapshot, ever — a kill mid-write leaves only a
 * temp file), every acknowledged order is in the restored state, the state equals a replay of the whole log, and
 * replay-verify finds the snapshots and the stored back-office query model matching the log. The next cycle's start
 * is the restart itself. Randomness is seeded (xorshift); the seed is printed.
 */

import { join } from 'node:path'
import { idempotencyIndexKey } from '../../../src/kernel/state.ts'
import { stateDigest } from '../../../src/kernel/index.ts'
import { rebuildState, replayVerify, restoreEngine, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { nodeIo, openReadOnly, Wal } from '../../../wal/index.ts'
import { readLines } from '../../../scripts/support/stream-lines.ts'

export interface DrillOptions {
  dir: string
  cycles: number
  seed: number
  /** Kill between these many ms after the child is ready. */
  killAfterMs: [number, number]
  log: (line: string) => void
}

export interface DrillResult {
  seed: number
  cycles: number
  acked: number
  /** Kills that left a snapshot temp file behind: the kill landed while a snapshot was being written. */
  killsDuringSnapshotWrite: number
  /** Kills that came after an on-demand snapshot started and before it was reported done (aimed kills that landed). */
  killsInsideSnapshot: number
  snapshotsSeen: number
  /** Cycles whose restore started from a snapshot with its seal beside it (crash-child seals, as `egress serve` does). */
  sealedSnapshotsSeen: number
  problems: string[]
}

export async function runCrashDrill(options: DrillOptions): Promise<DrillResult> {
  const random = xorshift(options.seed)
  const acked = new Set<string>()
  const result: DrillResult = { seed: options.seed, cycles: 0, acked: 0, killsDuringSnapshotWrite: 0, killsInsideSnapshot: 0, snapshotsSeen: 0, sealedSnapshotsSeen: 0, problems: [] }
  for (let cycle = 0; cycle < options.cycles && result.problems.length === 0; cycle++) {
    const child = Bun.spawn([process.execPath, join(import.meta.dir, 'crash-child.ts'), options.dir, `c${cycle}`], { stdout: 'pipe', stderr: 'pipe' })
    const output = new LineCollector(child.stdout)
    const spawnedAt = performance.now()
    const ready = await output.waitFor((line) => line.startsWith('READY'), 20_000)
    if (ready === null) {
      child.kill(9)
      result.problems.push(`cycle ${cycle}: the restart did not come up: ${output.lines.slice(0, 3).join(' | ')} ${await new Response(child.stderr).text()}`)
      break
    }
    options.log(`ready after ${Math.round(performance.now() - spawnedAt)} ms`)
    // The restart itself: the back office must have started from the snapshot's section, not refused it.
    const started = JSON.parse(ready.slice('READY '.length)) as { snapshotLsn: number | null; rejected: unknown[]; backOffice: { sectionLsn: number | null; sectionProblem: string | null } }
    if (started.rejected.length > 0) result.problems.push(`cycle ${cycle}: the restart refused snapshots: ${JSON.stringify(started.rejected)}`)
    if (started.backOffice.sectionProblem !== null) result.problems.push(`cycle ${cycle}: the back office refused its section: ${started.backOffice.sectionProblem}`)
    if (started.snapshotLsn !== null && started.backOffice.sectionLsn === null) result.problems.push(`cycle ${cycle}: started from a snapshot but the back office replayed the log`)
    // Half the kills at a random moment, half aimed into a snapshot: a random delay after one starts.
    const [low, high] = options.killAfterMs
    let aimedAt: number | null = null
    if (random() < 0.5) await Bun.sleep(low + Math.floor(random() * (high - low)))
    else {
      aimedAt = 1 + Math.floor(random() * 4)
      await output.waitFor((line) => line === `SNAP ${aimedAt}`, 5_000)
      await Bun.sleep(Math.floor(random() * 120))
    }
    const linesAtKill = output.lines.length
    child.kill(9)
    await child.exited
    await output.done
    if (aimedAt !== null && !output.lines.slice(0, linesAtKill).includes(`SNAPPED ${aimedAt}`)) result.killsInsideSnapshot++
    for (const line of output.lines) if (line.startsWith('ACK ')) acked.add(line.slice(4))
    result.cycles++
    const checkAt = performance.now()
    check(options.dir, cycle, acked, result)
    options.log(`check ${Math.round(performance.now() - checkAt)} ms`)
    options.log(`cycle ${cycle}: acked ${acked.size}, snapshots seen ${result.snapshotsSeen}, aimed kills that landed inside a snapshot ${result.killsInsideSnapshot}, kills that left a half-written snapshot file ${result.killsDuringSnapshotWrite}`)
  }
  result.acked = acked.size
  return result
}

/** What the next start will find: checked with the same code the gateway restores with, then replay-verify. */
function check(dir: string, cycle: number, acked: ReadonlySet<string>, result: DrillResult): void {
  const verified = replayVerify(dir, { from: 'auto' })
  if (!verified.ok) result.problems.push(`cycle ${cycle}: replay-verify: ${JSON.stringify({ problems: verified.problems, snapshots: verified.snapshots, queryModel: verified.queryModel })}`)
  const genesis = stateDigest(rebuildState(openReadOnly(join(dir, 'log'))).state)
  const wal = Wal.open(join(dir, 'log'), { durability: 'fsync', preallocateBytes: 0 })
  try {
    const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 2 })
    const restored = restoreEngine(wal, store, { load: true })
    const { report } = restored
    if (report.removedTempFiles.length > 0) result.killsDuringSnapshotWrite++
    if (report.snapshot !== null) result.snapshotsSeen++
    if (report.snapshot !== null && store.readSeal({ file: report.snapshot.file, path: join(dir, 'snapshots', report.snapshot.file), lsn: report.snapshot.lsn }).kind === 'present') result.sealedSnapshotsSeen++
    if (report.rejected.length > 0) result.problems.push(`cycle ${cycle}: snapshots refused after the kill: ${JSON.stringify(report.rejected)}`)
    if (result.snapshotsSeen > 0 && report.snapshot === null) result.problems.push(`cycle ${cycle}: no usable snapshot after one existed`)
    const state = restored.engine.state
    const lost = [...acked].filter((key) => !state.idempotency.has(idempotencyIndexKey('demo-1', key)))
    if (lost.length > 0) result.problems.push(`cycle ${cycle}: ${lost.length} acknowledged orders lost, e.g. ${lost.slice(0, 3).join(', ')}`)
    if (stateDigest(state) !== genesis) result.problems.push(`cycle ${cycle}: state from snapshot + log differs from a replay of the whole log`)
  } finally {
    void wal.close()
  }
}

/** Collects a child's stdout lines as they come; `waitFor` resolves with the first matching line (null on timeout). */
class LineCollector {
  readonly lines: string[] = []
  readonly done: Promise<void>
  private waiters: { match: (line: string) => boolean; resolve: (line: string | null) => void }[] = []

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.read(stream)
  }

  waitFor(match: (line: string) => boolean, timeoutMs: number): Promise<string | null> {
    const seen = this.lines.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve) => {
      const waiter = { match, resolve }
      this.waiters.push(waiter)
      setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter)
        resolve(null)
      }, timeoutMs)
    })
  }

  private async read(stream: ReadableStream<Uint8Array>): Promise<void> {
    await readLines(stream, (line) => {
      this.lines.push(line)
      for (const waiter of this.waiters.filter((candidate) => candidate.match(line))) {
        this.waiters = this.waiters.filter((other) => other !== waiter)
        waiter.resolve(line)
      }
    })
    for (const waiter of this.waiters.splice(0)) waiter.resolve(null)
  }
}

function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}
