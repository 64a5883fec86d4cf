// A gateway's automatic snapshot, retention (keep 1: the older snapshot pruned) and compaction (delete), with a power
// cut at every step of them: every tree the disk may hold after the cut (specs/support/power-cut-io.ts) must restore,
// as the next start would, with every order answered 202 before the snapshot began. The log, the snapshots and their directories all go through the model.
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { restoreEngine, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { nodeIo, Wal } from '../../../wal/index.ts'
import { everySubset, powerCutIo } from '../../support/power-cut-io.ts'
import { removeDir, run, startWorld, tempDataDir, traderA, worldsStoppedAfterEach } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()

describe('a power cut during the gateway snapshot and its compaction', () => {
  test('every tree the cut may leave restores with every acknowledged order', async () => {
    const dataDir = tempDataDir()
    const scratch = tempDataDir()
    const io = powerCutIo(dataDir)
    const world = await startWorld({
      seed: 911, dir: dataDir,
      wal: { io, durability: 'fsync', segmentBytesMax: 4096, preallocateBytes: 0 },
      snapshots: { keep: 1, atShutdown: false, compaction: 'delete', io },
    })
    worlds.push(world)
    await trade(world, { orders: 15, tag: 'pc', seed: 911 })
    // A first snapshot (and compaction), not cut: the one under test then prunes it (keep 1) before it compacts.
    const first = await world.gateway.snapshot()
    expect(first).not.toBeNull()
    await trade(world, { orders: 20, tag: 'pc2', seed: 912 })
    await run(world, 100)
    const acked: string[] = []
    for (let index = 0; index < 5; index++) {
      const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59500', client_order_id: `acked-${index}` }
      const placed = await world.gateway.place(traderA, body, null)
      if (placed.reply.kind === 'accepted') acked.push(placed.reply.orderId)
    }
    expect(acked).toHaveLength(5)
    await world.gateway.engine.settled()
    for (const orderId of world.gateway.engine.state.orders.keys()) if (!acked.includes(orderId)) acked.push(orderId)
    const failures: string[] = []
    let cuts = 0
    const restoreAt = (label: string): void => {
      const pending = io.pendingChanges()
      for (const keep of everySubset(pending.length)) {
        const tree = join(scratch, `cut-${cuts++}`)
        const kept = pending.filter((change, at) => keep(change, at)).map((change) => change.label)
        const where = `${label} keeping [${kept.join(', ')}]`
        try {
          io.materialize(tree, keep)
          const wal = Wal.open(join(tree, 'log'), { durability: 'none', preallocateBytes: 0 })
          try {
            const { engine } = restoreEngine(wal, new SnapshotStore(join(tree, 'snapshots'), { io: nodeIo, keep: 1 }), { load: true })
            const missing = acked.filter((orderId) => !engine.state.orders.has(orderId))
            if (missing.length > 0) failures.push(`${where}: ${missing.length} acknowledged orders missing`)
          } finally {
            wal.abandonAsCrashed()
          }
        } catch (error) {
          failures.push(`${where}: ${String(error).slice(0, 200)}`)
        } finally {
          removeDir(tree)
        }
      }
    }
    const segmentsBefore = world.gateway.engine.wal.segments.length
    const cutLabels: string[] = []
    io.beforeChange = (label) => {
      cutLabels.push(`before ${label}`)
      restoreAt(`before ${label}`)
    }
    const taken = await world.gateway.snapshot()
    io.beforeChange = null
    restoreAt('after the snapshot and compaction returned')
    removeDir(scratch)
    expect(taken).not.toBeNull()
    // The compaction ran: several segments removed, one step (and one cut) each.
    expect(segmentsBefore - world.gateway.engine.wal.segments.length).toBeGreaterThan(3)
    expect(cuts).toBeGreaterThan(10)
    // The first snapshot was pruned under the cut (retention's unlink was one of the steps).
    expect(cutLabels.some((label) => label.startsWith(`before unlink snapshots/snapshot-`))).toBe(true)
    // Before the fixes: snapshots/ and log/ were never fsynced in the data dir (a cut without them lost the snapshot,
    // or the whole log), and the compaction's unlinks could reach the disk out of order (SEGMENT_MISSING).
    expect(failures).toEqual([])
  }, 120_000)
})
