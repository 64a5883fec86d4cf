// A failed fsync while a running gateway writes a snapshot or compacts is fatal, as a failed fsync of the log is
// (DESIGN §3; src/runtime/ha/durable-fs.ts says the same for the HA swaps). Before the fix it was a failed snapshot
// like any other: counted, reported, the gateway kept taking orders, and the next snapshot synced the same directory
// again and trusted the answer — which after EIO proves nothing (the kernel may have dropped the dirty state and report
// success the next time), and the snapshot it then wrote became the basis of a compaction. Now the log stops
// (WalFatalError caused by FSYNC_FAILED, `died` resolves: `egress serve` exits), nothing more is accepted, and a
// restart comes back with every acknowledged order and a log that replay-verifies.
import { describe, expect, test } from 'bun:test'
import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { replayVerify } from '../../../src/runtime/snapshot/index.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()

type SyncCall = 'fsync' | 'fsyncDirectory'

/**
 * node:fs, except that once armed the first `call` whose target `matches` fails with EIO; `fsync` is either of the
 * file fsyncs, on the event loop (the manifest's) or off it (a running gateway's snapshot file's, store-write.ts).
 */
function failingSyncIo(call: SyncCall, matches: (target: string) => boolean): { io: WalIo; arm: () => void; failed: () => boolean } {
  const state = { armed: false, failed: false }
  const fail = (target: string): void => {
    if (!state.armed || state.failed || !matches(target)) return
    state.failed = true
    throw Object.assign(new Error(`EIO: i/o error, ${call} ${target}`), { code: 'EIO' })
  }
  const io: WalIo = {
    ...nodeIo,
    fsync: (fd) => {
      if (call === 'fsync') fail(`fd ${fd}`)
      nodeIo.fsync(fd)
    },
    fsyncOffLoop: (fd, done) => {
      try {
        if (call === 'fsync') fail(`fd ${fd}`)
      } catch (error) {
        // As the disk answers: later, through `done`.
        return void setImmediate(() => done(error as Error))
      }
      nodeIo.fsyncOffLoop(fd, done)
    },
    fsyncDirectory: (path) => {
      if (call === 'fsyncDirectory') fail(path)
      nodeIo.fsyncDirectory(path)
    },
  }
  return { io, arm: () => void (state.armed = true), failed: () => state.failed }
}

async function acknowledged(world: World, tag: string): Promise<string[]> {
  const acked: string[] = []
  for (let index = 0; index < 4; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59500', client_order_id: `${tag}-${index}` }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind === 'accepted') acked.push(placed.reply.orderId)
  }
  expect(acked).toHaveLength(4)
  return acked
}

/** After the failure: the log is dead, nothing more is accepted; a restart has every acknowledged order. */
async function expectFatalThenRestart(world: World, outcome: string, acked: string[], seed: number): Promise<void> {
  expect(outcome).toContain('FSYNC_FAILED')
  const fatal = world.gateway.engine.wal.fatalError
  expect(fatal?.name).toBe('WalFatalError')
  expect(String(fatal?.message)).toContain('FSYNC_FAILED')
  expect(await Promise.race([world.gateway.engine.wal.died.then(() => 'died'), Bun.sleep(1_000).then(() => 'alive')])).toBe('died')
  expect(world.gateway.ready).toBe(false)
  const after = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59500', client_order_id: `after-${seed}` }
  expect(await world.gateway.place(traderA, after, null).then(() => 'accepted', () => 'refused')).toBe('refused')
  await crashWorld(world).catch(() => undefined)
  const restarted = await startWorld({ seed, dir: world.dir, clock: world.clock, venue: world.venue, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false } })
  worlds.push(restarted)
  for (const orderId of acked) expect(restarted.gateway.engine.state.orders.has(orderId)).toBe(true)
  await restarted.gateway.stop()
  expect(replayVerify(world.dir, { from: 'auto', queryModel: false }).problems).toEqual([])
}

describe('a failed fsync while snapshotting or compacting stops the log', () => {
  const snapshotCases: { name: string; call: SyncCall; matches: (target: string) => boolean }[] = [
    { name: "the snapshot file's fsync", call: 'fsync', matches: () => true },
    { name: "the snapshot directory's fsync after the rename", call: 'fsyncDirectory', matches: (path) => path.endsWith('/snapshots') },
  ]
  for (const [index, { name, call, matches }] of snapshotCases.entries()) {
    test(`${name} fails with EIO: fatal, not retried by the next snapshot`, async () => {
      const seed = 610 + index
      const faulty = failingSyncIo(call, matches)
      const world = await startWorld({ seed, wal: { segmentBytesMax: 4096 }, snapshots: { io: faulty.io, atShutdown: false } })
      worlds.push(world)
      await trade(world, { orders: 12, tag: `f${seed}`, seed })
      await run(world, 100)
      const acked = await acknowledged(world, `acked-${seed}`)
      faulty.arm()
      const outcome = await world.gateway.snapshot().then(() => 'done', (error: unknown) => String(error))
      expect(faulty.failed()).toBe(true)
      await expectFatalThenRestart(world, outcome, acked, seed)
    })
  }

  test("the log directory's fsync after compaction removed segments fails with EIO: fatal", async () => {
    const seed = 620
    const faulty = failingSyncIo('fsyncDirectory', (path) => path.endsWith('/log'))
    const world = await startWorld({ seed, wal: { segmentBytesMax: 4096, io: faulty.io }, snapshots: { keep: 1, atShutdown: false, compaction: 'delete' } })
    worlds.push(world)
    await trade(world, { orders: 25, tag: `c${seed}`, seed })
    await run(world, 100)
    const acked = await acknowledged(world, `acked-${seed}`)
    const firstLsnBefore = world.gateway.engine.wal.firstLsn
    faulty.arm()
    const outcome = await world.gateway.snapshot().then(() => 'done', (error: unknown) => String(error))
    expect(faulty.failed()).toBe(true)
    expect(world.gateway.engine.wal.firstLsn).toBeGreaterThan(firstLsnBefore) // segments were removed before the fsync
    await expectFatalThenRestart(world, outcome, acked, seed)
  })
})
