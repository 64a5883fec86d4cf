import { describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly } from '../../../wal/index.ts'
import { stateDigest } from '../../../src/kernel/index.ts'
import { rebuildState, replayVerify } from '../../../src/runtime/snapshot/index.ts'
import { withEvidence } from '../../support/evidence.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()

function genesisDigest(dir: string): string {
  return stateDigest(rebuildState(openReadOnly(join(dir, 'log'))).state)
}

describe('restart from a snapshot', () => {
  test('restart from the shutdown snapshot equals restart from genesis, and stays equal as trading continues', async () => {
    await withEvidence(
      { id: 'snapshot.restart-equals-genesis', kind: 'invariant', spec: 'specs/runtime/snapshot/restart.test.ts', invariant: 'state restored from the newest snapshot plus the log after it has the digest of a replay of the whole log, before and after further trading' },
      async () => {
        const seeds = [81, 82, 83]
        for (const seed of seeds) {
          const first = await startWorld({ seed })
          await trade(first, { orders: 30, tag: 'a', seed })
          const known = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: 'known-1' }
          expect((await first.gateway.place(traderA, known, null)).reply.kind).toBe('accepted')
          await first.gateway.stop() // clean shutdown: takes a snapshot at the last LSN
          expect(readdirSync(join(first.dir, 'snapshots')).some((name) => name.endsWith('.snap'))).toBe(true)
          const second = await startWorld({ seed, dir: first.dir, clock: first.clock, venue: first.venue })
          worlds.push(second)
          const report = second.gateway.restoreReport
          expect(report?.snapshot).not.toBeNull()
          expect(report?.rejected).toEqual([])
          expect(stateDigest(second.gateway.engine.state)).toBe(genesisDigest(first.dir))
          // Trade on the restored state, then compare with a replay of the whole log again.
          await trade(second, { orders: 20, tag: 'b', seed: seed + 100 })
          await run(second, 200)
          expect(stateDigest(second.gateway.engine.state)).toBe(genesisDigest(first.dir))
          // The dedupe index came back with the snapshot: a repeat is answered, not placed again.
          const again = await second.gateway.place(traderA, known, null)
          expect(again.reply).toMatchObject({ kind: 'accepted', duplicate: true })
          expect(second.errors).toEqual([])
        }
        return { cases: seeds.length, seeds }
      },
    )
  })

  test('periodic snapshots every N records; load: false replays from genesis to the same state', async () => {
    const world = await startWorld({ seed: 90, snapshots: { everyRecords: 50, keep: 2, atShutdown: false } })
    await trade(world, { orders: 30, tag: 'p', seed: 90 })
    await run(world, 100)
    await world.gateway.snapshotter.idle()
    const stats = world.gateway.snapshotter.stats
    expect(stats.taken).toBeGreaterThanOrEqual(2)
    expect(stats.failed).toBe(0)
    expect(stats.pauseMsMax).toBeGreaterThan(0)
    const files = readdirSync(join(world.dir, 'snapshots')).filter((name) => name.endsWith('.snap'))
    expect(files).toHaveLength(2)
    const newest = stats.last?.lsn as number
    await world.gateway.stop()
    const fromSnapshot = await startWorld({ seed: 90, dir: world.dir, clock: world.clock, venue: world.venue, snapshots: { atShutdown: false } })
    expect(fromSnapshot.gateway.restoreReport?.snapshot?.lsn).toBe(newest)
    const digest = stateDigest(fromSnapshot.gateway.engine.state)
    await fromSnapshot.gateway.stop()
    const fromGenesis = await startWorld({ seed: 90, dir: world.dir, clock: world.clock, venue: world.venue, snapshots: { load: false, atShutdown: false } })
    worlds.push(fromGenesis)
    expect(fromGenesis.gateway.restoreReport?.snapshot).toBeNull()
    // Each start appends bootstrap records, so compare against the log as it now stands.
    expect(stateDigest(fromGenesis.gateway.engine.state)).toBe(genesisDigest(world.dir))
    expect(digest).not.toBe('')
  })

  test('the on-demand snapshot (admin endpoint) reports its pause and is idempotent while nothing changes', async () => {
    const world = await startWorld({ seed: 91 })
    worlds.push(world)
    await trade(world, { orders: 10, tag: 'd', seed: 91 })
    await run(world, 100)
    const taken = await world.gateway.snapshot()
    expect(taken?.lsn).toBe(world.gateway.engine.state.lastLsn)
    expect(taken?.pauseMs).toBeGreaterThan(0)
    expect(taken?.totalMs).toBeGreaterThanOrEqual(taken?.pauseMs as number)
    expect(await world.gateway.snapshot()).toBeNull()
  })

  test('automatic compaction archives segments below the oldest retained snapshot; the gateway restarts on the compacted log', async () => {
    const world = await startWorld({ seed: 92, wal: { segmentBytesMax: 4096 }, snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' } })
    await trade(world, { orders: 40, tag: 'k', seed: 92 })
    await run(world, 100)
    await world.gateway.snapshotter.idle()
    // The last compaction may have found nothing left to remove (a snapshot due meanwhile is taken right after).
    expect(world.gateway.snapshotter.stats.lastCompaction?.basis).not.toBeNull()
    expect(world.gateway.engine.wal.firstLsn).toBeGreaterThan(1)
    expect(readdirSync(join(world.dir, 'archive')).length).toBeGreaterThan(0)
    await world.gateway.stop()
    const restarted = await startWorld({ seed: 92, dir: world.dir, clock: world.clock, venue: world.venue, wal: { segmentBytesMax: 4096 } })
    worlds.push(restarted)
    expect(restarted.gateway.restoreReport?.snapshot).not.toBeNull()
    expect(restarted.errors).toEqual([])
    const verified = replayVerify(world.dir, { from: 'auto' })
    expect(verified.problems).toEqual([])
    expect(verified.base.kind).toBe('snapshot')
    expect(verified.finalDigest).toBe(stateDigest(restarted.gateway.engine.state))
  })
})
