import { describe, expect, test } from 'bun:test'
import { countingIo, heldSyncIo } from '../wal/support.ts'
import { EngineOverloadedError } from '../../src/runtime/engine.ts'
import { syncTransitionRecord } from '../../src/runtime/ha/records.ts'
import { crashWorld, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

/**
 * The ACK boundary holds for repeats too: a repeat of an idempotent request is answered with the first answer only
 * once the first request's records are durable. The kernel decides a repeat from memory, which runs ahead of the log
 * by the batch being written, so a repeat that arrives while the original is still in that batch (a client that
 * retried on a second connection during a slow fsync) must wait for the batch like the original does.
 */

const worlds = worldsStoppedAfterEach()

const BODY = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' } as const

describe('a repeat is answered only once the original is durable', () => {
  test('a repeat of a place whose records the log then fails to write is not answered accepted (the order is not in the log)', async () => {
    const io = countingIo()
    const world = await startWorld({ seed: 41, wal: { io } })
    worlds.push(world)
    io.failNext('write', 'EIO')
    const original = world.gateway.place(traderA, BODY, 'retry-key-1')
    const repeat = world.gateway.place(traderA, BODY, 'retry-key-1')
    const [first, second] = await Promise.allSettled([original, repeat])
    expect(first.status).toBe('rejected')
    // Before the fix the repeat resolved { kind: 'accepted', duplicate: true } here: a 202 for an order that is not
    // in the log and is gone after a restart.
    expect(second.status).toBe('rejected')
    await crashWorld(world)
    const restarted = await startWorld({ seed: 41, dir: world.dir, clock: world.clock, venue: world.venue })
    worlds.push(restarted)
    expect([...restarted.gateway.engine.state.orders.values()].map((order) => order.clientOrderId)).toEqual([])
  })

  test('a repeat submitted in the same turn as the original is answered after the original, once its records are durable', async () => {
    const world = await startWorld({ seed: 42 })
    worlds.push(world)
    const answers: string[] = []
    let logEndAtRepeat = 0
    const original = world.gateway.place(traderA, BODY, 'retry-key-2').then((result) => {
      answers.push('original')
      return result
    })
    const repeat = world.gateway.place(traderA, BODY, 'retry-key-2').then((result) => {
      answers.push('repeat')
      logEndAtRepeat = world.gateway.engine.wal.lastLsn
      return result
    })
    const [first, second] = await Promise.all([original, repeat])
    if (first.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(first.reply)}`)
    expect(second.reply).toEqual({ kind: 'accepted', orderId: first.reply.orderId, duplicate: true })
    expect(answers).toEqual(['original', 'repeat'])
    expect(logEndAtRepeat).toBeGreaterThanOrEqual(first.lsn ?? Number.POSITIVE_INFINITY)
  })

  test('a repeat is answered after the original also when a record appended outside the kernel opens their batch', async () => {
    const world = await startWorld({ seed: 43 })
    worlds.push(world)
    const order: string[] = []
    world.gateway.engine.onDurable((applied) => {
      for (const { event } of applied) if (event.type === 'order.accepted') order.push('listeners')
    })
    // A record appended with Engine.appendRecords (an audit seal, an HA alert, FIX sequence numbers) ahead of the
    // original in the same batch: its own completion used to release the repeat before the original was answered.
    const appended = world.gateway.engine.appendRecords([syncTransitionRecord({ state: 'down', reason: 'spec', atMs: world.clock.nowMs(), standbyDurableLsn: 0, leaderLastLsn: 0, policy: 'degrade_async' })])
    const original = world.gateway.place(traderA, BODY, 'retry-key-3').then(() => order.push('original'))
    const repeat = world.gateway.place(traderA, BODY, 'retry-key-3').then(() => order.push('repeat'))
    await Promise.all([appended, original, repeat])
    expect(order).toEqual(['listeners', 'original', 'repeat'])
  })

  test('answers waiting for a stalled log are bounded: past durabilityWaiters.max a repeat is refused as overloaded', async () => {
    const io = heldSyncIo()
    // Syncs complete at once until the disk "stalls"; then they are held until it comes back.
    let stalled = false
    const disk = setInterval(() => {
      while (!stalled && io.held > 0) io.release()
    }, 1)
    try {
      const world = await startWorld({ seed: 44, wal: { io, durability: 'fsync' } })
      worlds.push(world)
      const { engine } = world.gateway
      engine.durabilityWaiters.max = 3
      stalled = true
      // The original's batch is written and its sync held.
      const original = world.gateway.place(traderA, BODY, 'retry-key-4')
      await Bun.sleep(5)
      expect(io.held).toBe(1)
      const repeats = Array.from({ length: 5 }, () => world.gateway.place(traderA, BODY, 'retry-key-4'))
      const refused = await Promise.allSettled(repeats.slice(3))
      for (const outcome of refused) {
        expect(outcome.status).toBe('rejected')
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(EngineOverloadedError)
      }
      // The disk comes back: the original and the three waiting repeats are answered, all naming the same order.
      stalled = false
      const [first, ...waited] = await Promise.all([original, ...repeats.slice(0, 3)])
      if (first?.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(first?.reply)}`)
      for (const answer of waited) expect(answer.reply).toEqual({ kind: 'accepted', orderId: first.reply.orderId, duplicate: true })
    } finally {
      stalled = false
      await Bun.sleep(5)
      clearInterval(disk)
    }
  })
})
