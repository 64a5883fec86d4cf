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
  snapshotsSeen: number
  problems: string[]
}

export async function runCrashDrill(options: DrillOptions): Promise<DrillResult> {
  const random = xorshift(options.seed)
  const acked = new Set<string>()
  const result: DrillResult = { seed: options.seed, cycles: 0, acked: 0, killsDuringSnapshotWrite: 0, snapshotsSeen: 0, problems: [] }
  for (let cycle = 0; cycle < options.cycles && result.problems.length === 0; cycle++) {
    const child = Bun.spawn([process.execPath, join(import.meta.dir, 'crash-child.ts'), options.dir, `c${cycle}`], { stdout: 'pipe', stderr: 'pipe' })
    const lines = readLines(child.stdout)
    const spawnedAt = performance.now()
    const ready = await Promise.race([lines.next(), Bun.sleep(20_000).then(() => null)])
    if (ready === null || ready.done === true || !String(ready.value).startsWith('READY')) {
      child.kill(9)
      result.problems.push(`cycle ${cycle}: the restart did not come up: ${ready === null ? 'timeout' : JSON.stringify(ready.value)} ${await new Response(child.stderr).text()}`)
      break
    }
    options.log(`ready after ${Math.round(performance.now() - spawnedAt)} ms`)
    const [low, high] = options.killAfterMs
    await Bun.sleep(low + Math.floor(random() * (high - low)))
    child.kill(9)
    await child.exited
    for (let line = await lines.next(); line.done !== true; line = await lines.next()) if (line.value.startsWith('ACK ')) acked.add(line.value.slice(4))
    result.cycles++
    const checkAt = performance.now()
    check(options.dir, cycle, acked, result)
    options.log(`check ${Math.round(performance.now() - checkAt)} ms`)
    options.log(`cycle ${cycle}: acked ${acked.size}, snapshots seen ${result.snapshotsSeen}, kills during a snapshot write ${result.killsDuringSnapshotWrite}`)
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

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true })
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      yield buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      newline = buffered.indexOf('\n')
    }
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
