/**
 * A send the log refuses (its queue full, or the log dead) comes back refused within microtasks. The executor then
 * released the order and woke at once, picked the same order again and was refused again — a loop that never gave
 * the event loop a turn, so neither could the log drain its queue nor a serve whose log died exit: it spun at full CPU
 * while its error log grew by gigabytes (seen with serve-log-failure.test.ts under load). A refused send now waits
 * SEND_REFUSED_RETRY_MS before it is picked again.
 */

import { describe, expect, test } from 'bun:test'
import { SEND_REFUSED_RETRY_MS } from '../../src/runtime/executor.ts'
import type { KernelCommand } from '../../src/kernel/index.ts'
import type { CommandSink } from '../../src/runtime/engine.ts'
import { countingIo } from '../wal/support.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** Past this many send decisions in one test, the executor is stopped: a loop must fail the spec, not hang it. */
const SEND_DECISIONS_MAX = 1_000

describe('a send the log refuses', () => {
  test('is retried after a pause, not in a loop that starves the event loop', async () => {
    const io = countingIo()
    const world = await startWorld({ seed: 47, wal: { io } })
    worlds.push(world)
    const { engine, executor } = world.gateway
    // An accepted order the executor has not sent yet.
    executor.stop()
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }, 'refused-send-1')
    expect(placed.reply.kind).toBe('accepted')
    // The log dies on its next write.
    io.failNext('write', 'EIO')
    io.failNext('writeOffLoop', 'EIO')
    await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }, 'refused-send-2').catch(() => {})
    expect(engine.wal.fatalError).not.toBeNull()

    // Both orders are due: the second is in the kernel's memory, which ran ahead of the log by the failed batch.
    const sendsByOrder = new Map<string, number>()
    let sendDecisions = 0
    // The executor submits its send decisions to a sink of its own (Engine.submitTo).
    const submitTo = engine.submitTo.bind(engine)
    engine.submitTo = (command: KernelCommand, sink: CommandSink) => {
      if (command.kind === 'send') {
        sendsByOrder.set(command.orderId, (sendsByOrder.get(command.orderId) ?? 0) + 1)
        if (++sendDecisions >= SEND_DECISIONS_MAX) executor.stop()
      }
      submitTo(command, sink)
    }
    const mostForOneOrder = (): number => Math.max(0, ...sendsByOrder.values())
    executor.start()
    // One macrotask later: with the loop, every send decision up to the bound ran before this line.
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(mostForOneOrder()).toBe(1)
    // A simulated second: about one try per order per SEND_REFUSED_RETRY_MS, nothing sent.
    await run(world, 1_000)
    expect(mostForOneOrder()).toBeGreaterThan(1)
    expect(mostForOneOrder()).toBeLessThanOrEqual(1_000 / SEND_REFUSED_RETRY_MS + 2)
    expect(executor.stats.sends).toBe(0)
    expect(world.venue.inspect().orders).toEqual([])
  })
})
