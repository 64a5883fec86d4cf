// A running gateway's compaction checks its basis snapshot off the event loop (basis-check.ts). Checked on the loop
// (openSnapshot: the whole file read, hashed and its kernel state decoded), it held the loop after every snapshot for
// as long as a restart's load takes (~520 ms at 100k orders), where the snapshot itself holds it a few ms at a time
// (take.ts) and the removals go one per turn (compact-turns.ts). The check itself is the same: a candidate refused on
// the loop is refused by the thread's check with the same code, and the oldest one that passes is the basis.
import { describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeSnapshot, KERNEL_SECTION, openSnapshot, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { allowSelfTrade, SelfTradeRefusals } from '../../../scripts/support/self-trade-allowed.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()

/** Snapshot io noting when the manifest goes into place: the snapshot's last step, its compaction comes next. */
function manifestNotingIo(onManifest: () => void = () => undefined): { io: WalIo; manifestAt: () => number } {
  let at = Number.POSITIVE_INFINITY
  const io: WalIo = {
    ...nodeIo,
    rename: (from, to) => {
      nodeIo.rename(from, to)
      if (to.endsWith('MANIFEST.json')) {
        at = performance.now()
        onManifest()
      }
    },
  }
  return { io, manifestAt: () => at }
}

/**
 * The longest the event loop went without running a 1 ms timer while this watched, counting only the gaps that ended
 * at or after `from()`.
 */
function loopWatch(from: () => number): { stop: () => number } {
  let longest = 0
  let on = true
  let last = performance.now()
  const tick = (): void => {
    const now = performance.now()
    if (now >= from()) longest = Math.max(longest, now - last)
    last = now
    if (on) setTimeout(tick, 1)
  }
  setTimeout(tick, 1)
  return { stop: () => ((on = false), longest) }
}

describe("a running gateway's compaction", () => {
  test('holds the event loop a few ms at a time, not for the check of its basis', async () => {
    const noting = manifestNotingIo()
    const world = await startWorld({ seed: 5101, configure: allowSelfTrade, snapshots: { keep: 1, atShutdown: false, compaction: 'delete', io: noting.io } })
    worlds.push(world)
    // ~25k orders, each filled: a kernel state whose snapshot takes ~100-200 ms to check (read, hash, decode).
    const refusals = new SelfTradeRefusals()
    for (let index = 0; index < 25_000; index++) {
      const side = index % 2 === 0 ? 'buy' : 'sell'
      const body = { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty: '0.001', price: side === 'buy' ? '61000' : '59000', client_order_id: `big-${index}` }
      refusals.note(await world.gateway.place(traderA, body, null))
      if (index % 50 === 49) await run(world, 20)
    }
    await run(world, 200)
    refusals.assertNone('compaction-basis-thread')
    const watch = loopWatch(noting.manifestAt)
    const taken = await world.gateway.snapshot()
    const longest = watch.stop()
    expect(taken).not.toBeNull()
    const compaction = world.gateway.snapshotter.stats.lastCompaction
    expect(compaction?.basis?.file).toBe(taken?.file)
    expect(compaction?.removed.length).toBeGreaterThan(0)
    // What checking the basis costs on the loop, here and now (the machine's speed and load alike).
    const store = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 1 })
    const candidate = store.candidates()[0]
    if (candidate === undefined) throw new Error('no snapshot')
    const checkStarted = performance.now()
    openSnapshot(store, candidate, world.gateway.engine.wal)
    const checkMs = performance.now() - checkStarted
    // From the moment the snapshot was in place, through its compaction: no stretch near the check's length.
    expect(longest).toBeLessThan(Math.max(checkMs / 3, 20))
  }, 30_000)

  test('refuses the snapshots the check on the loop refuses, with the same codes, and bases itself on the oldest that passes', async () => {
    const world = await startWorld({ seed: 5102, snapshots: { keep: 3, atShutdown: false, compaction: 'delete' }, wal: { segmentBytesMax: 4096 } })
    worlds.push(world)
    const taken: { file: string; path: string; lsn: number }[] = []
    for (let round = 0; round < 3; round++) {
      await trade(world, { orders: 10, tag: `basis-${round}`, seed: 5102 + round })
      await run(world, 100)
      if (round === 2) {
        const [oldest, middle] = taken
        if (oldest === undefined || middle === undefined) throw new Error('two snapshots expected')
        // The oldest torn (a byte changed: its digest fails); the middle one intact but its kernel state not a state.
        const bytes = readFileSync(oldest.path)
        bytes[bytes.byteLength >> 1] = (bytes[bytes.byteLength >> 1] as number) ^ 0xff
        writeFileSync(oldest.path, bytes)
        const header = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 3 }).read({ file: middle.file, path: middle.path, lsn: middle.lsn }).header
        const garbage = encodeSnapshot({ lsn: header.lsn, chainHead: header.chainHead, createdAtMs: header.createdAtMs, kernelSchema: header.kernelSchema }, new Map([[KERNEL_SECTION, new Uint8Array(64).fill(7)]]))
        writeFileSync(middle.path, garbage.bytes)
      }
      const snapshot = await world.gateway.snapshot()
      if (snapshot === null) throw new Error('snapshot expected')
      taken.push(snapshot)
    }
    const compaction = world.gateway.snapshotter.stats.lastCompaction
    expect(compaction?.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual(taken.slice(0, 2).map((snapshot, index) => [snapshot.file, index === 0 ? 'DIGEST_MISMATCH' : 'STATE_INVALID']))
    expect(compaction?.basis?.file).toBe(taken[2]?.file)
    const first = world.gateway.engine.wal.segments[0]
    const basisLsn = compaction?.basis?.lsn ?? 0
    expect(first !== undefined && first.firstLsn <= basisLsn && basisLsn <= first.lastLsn).toBe(true)
  }, 30_000)

  test('stopped before its basis is checked, removes nothing', async () => {
    let stopOnManifest = false
    const noting = manifestNotingIo(() => {
      if (stopOnManifest) world.gateway.snapshotter.stop()
    })
    const world = await startWorld({ seed: 5103, snapshots: { keep: 1, atShutdown: false, compaction: 'delete', io: noting.io }, wal: { segmentBytesMax: 4096 } })
    worlds.push(world)
    await trade(world, { orders: 20, tag: 'stop', seed: 5103 })
    await run(world, 100)
    const segmentsBefore = world.gateway.engine.wal.segments.length
    stopOnManifest = true
    expect(await world.gateway.snapshot()).not.toBeNull()
    const compaction = world.gateway.snapshotter.stats.lastCompaction
    expect(compaction?.basis).toBeNull()
    expect(compaction?.removed).toEqual([])
    expect(world.gateway.engine.wal.segments.length).toBe(segmentsBefore)
  }, 30_000)
})
