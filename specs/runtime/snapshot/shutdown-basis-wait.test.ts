// The shutdown snapshot's compaction checks its basis in a thread (basis-check.ts) that runs at the lowest priority:
// on a machine busy with other work it may not answer for minutes, or never. A stop waited for it without bound (the
// shutdown's compaction has no stop to abandon it), so SIGTERM left `egress serve` hanging after its snapshot was
// durable. The wait is bounded (SHUTDOWN_BASIS_CHECK_MS_MAX): past it nothing is compacted, the stop says why and ends.
import { describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { WorkerChannel } from '../../../src/runtime/worker-channel.ts'
import { SHUTDOWN_BASIS_CHECK_MS_MAX } from '../../../src/runtime/snapshot/snapshotter.ts'
import type { BasisCheckReply, BasisCheckRequest } from '../../../src/runtime/snapshot/basis-check.ts'
import { run, startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()

describe('a stop whose shutdown compaction waits for a basis check that never comes', () => {
  test('ends, the snapshot taken and nothing compacted, and says why', async () => {
    const world = await startWorld({ seed: 5201, snapshots: { keep: 1, atShutdown: true, compaction: 'delete' }, wal: { segmentBytesMax: 4096 } })
    worlds.push(world)
    await trade(world, { orders: 20, tag: 'silent', seed: 5201 })
    await run(world, 100)
    const segmentsBefore = world.gateway.engine.wal.segments.length
    expect(segmentsBefore).toBeGreaterThan(1)
    // The snapshotter's checker talks to a thread that never answers.
    const silent = new WorkerChannel<BasisCheckRequest, BasisCheckReply>({ url: new URL('./silent-worker.ts', import.meta.url).href, failed: (id, message) => ({ id, ok: false, message }) })
    world.gateway.snapshotter['basisChecker']['channel'] = silent
    const startedMs = performance.now()
    const outcome = await Promise.race([world.gateway.stop().then(() => 'stopped'), Bun.sleep(SHUTDOWN_BASIS_CHECK_MS_MAX + 5_000).then(() => 'still waiting')])
    expect(outcome).toBe('stopped')
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(SHUTDOWN_BASIS_CHECK_MS_MAX - 50)
    expect(world.gateway.snapshotter.stats.taken).toBe(1)
    expect(readdirSync(join(world.dir, 'log')).filter((name) => name.endsWith('.seg')).length).toBe(segmentsBefore)
    expect(world.errors.some((error) => error.startsWith('compaction after a snapshot: BasisCheckUnavailableError'))).toBe(true)
  }, 30_000)

  test('a snapshot whose compaction cannot check its basis is answered as taken, the compaction as having removed nothing', async () => {
    const world = await startWorld({ seed: 5202, snapshots: { keep: 1, atShutdown: false, compaction: 'delete' }, wal: { segmentBytesMax: 4096 } })
    worlds.push(world)
    await trade(world, { orders: 20, tag: 'lost', seed: 5202 })
    await run(world, 100)
    const segmentsBefore = world.gateway.engine.wal.segments.length
    // The snapshotter's checker talks to a thread already ended: every check is answered as failed.
    const ended = new WorkerChannel<BasisCheckRequest, BasisCheckReply>({ url: new URL('./silent-worker.ts', import.meta.url).href, failed: (id, message) => ({ id, ok: false, message }) })
    ended.stop('ended by the spec')
    world.gateway.snapshotter['basisChecker']['channel'] = ended
    const taken = await world.gateway.snapshot()
    expect(taken).not.toBeNull()
    expect(world.gateway.snapshotter.stats.failed).toBe(0)
    expect(world.gateway.snapshotter.stats.lastCompaction?.basis).toBeNull()
    expect(world.gateway.snapshotter.stats.lastCompaction?.removed).toEqual([])
    expect(world.gateway.engine.wal.segments.length).toBe(segmentsBefore)
    expect(world.errors.some((error) => error.startsWith('compaction after a snapshot: BasisCheckUnavailableError'))).toBe(true)
  }, 30_000)
})
