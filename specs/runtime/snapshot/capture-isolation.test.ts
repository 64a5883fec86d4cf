import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { nodeIo, openReadOnly } from '../../../wal/index.ts'
import { decodeSnapshot, KERNEL_SECTION, kernelStateBytes, kernelStateFromBytes, rebuildState, SnapshotStore, takeSnapshot } from '../../../src/runtime/snapshot/index.ts'
import { removeDir, run, startWorld, T0, traderA } from '../harness.ts'
import { trade } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

describe('a snapshot is the state at its LSN while the live state moves on', () => {
  test('what changed before the capture is in it, what changes after is not, though the encoding runs meanwhile: its kernel section is the bytes of a replay to its LSN', async () => {
    const world = await startWorld({ seed: 58, snapshots: { atShutdown: false } })
    dirs.push(world.dir)
    await trade(world, { orders: 120, tag: 'a', seed: 58 })
    await run(world, 200)
    // Before the capture: an order placed, acknowledged and resting (far from the market); then the capture.
    const resting = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '58200', client_order_id: 'before-rest' }, null)
    if (resting.reply.kind !== 'accepted') throw new Error(`the resting order was not accepted: ${JSON.stringify(resting.reply)}`)
    const restingId = resting.reply.orderId
    await run(world, 200)
    const engine = world.gateway.engine
    expect(engine.state.orders.get(restingId)?.status).toBe('AckedOpen')
    const lsn = engine.state.lastLsn
    const ordersAtCapture = engine.state.orders.size
    let steps = 0
    // One map entry per slice: the encoding of the copy spans many turns of the event loop.
    const taking = takeSnapshot(engine, new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 }), { nowMs: T0, entriesPerSlice: 1, onStep: () => void steps++ })
    // After the capture, before the copy's orders are all encoded: the resting order is changed in place (cancel
    // wanted, then ended, its reservation released) and a new one is placed and filled.
    const canceled = world.gateway.cancel(traderA, restingId)
    const placed = world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: 'after-fill' }, null)
    await Promise.all([canceled, placed])
    const after = await placed
    expect(after.reply.kind).toBe('accepted')
    expect(engine.state.orders.get(restingId)?.cancelWanted).toBe(true)
    expect(engine.state.lastLsn).toBeGreaterThan(lsn)
    expect(steps).toBeLessThan(ordersAtCapture)
    await run(world, 200)
    const taken = await taking
    if (taken === null) throw new Error('no snapshot taken')
    expect(taken.lsn).toBe(lsn)
    expect(engine.state.orders.get(restingId)?.status).toBe('Canceled')

    const kernel = decodeSnapshot(await Bun.file(taken.path).bytes()).sections.get(KERNEL_SECTION)
    if (kernel === undefined) throw new Error('no kernel section')
    const log = openReadOnly(join(world.dir, 'log'))
    const atLsn = rebuildState(log, { toLsn: lsn }).state
    expect(Buffer.from(kernel).equals(Buffer.from(kernelStateBytes(atLsn)))).toBe(true)
    const restored = kernelStateFromBytes(kernel)
    expect(restored.lastLsn).toBe(lsn)
    expect(restored.orders.size).toBe(ordersAtCapture)
    expect(restored.orders.get(restingId)).toMatchObject({ status: 'AckedOpen', cancelWanted: false })
    expect(restored.orders.get(restingId)?.reservation.remaining).toBeGreaterThan(0n)
    expect(after.reply.kind === 'accepted' && restored.orders.has(after.reply.orderId)).toBe(false)
    await world.gateway.stop()
  })
})
