/**
 * The reference price the executor observes for a send travels in the send's command record (`market`), so a standby's
 * shadow and `scripts/redecide-log.ts` decide a place the I-100 gate blocked on data health (send.ts) exactly as the
 * leader did, and a mode escalation (mode-escalation.ts) that ends queued work likewise. Here: one place waits out a
 * venue outage while its price feed stalls (blocked at its send, GATE_BLOCKED: sent before, it is read back and ends
 * Failed), another waits out an outage for its
 * retry and is canceled by paper → shadow → paper (MODE_ESCALATED: sent before, it is read back and ends Failed); the
 * whole log re-decided matches, and only with the market it recorded.
 */

import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { Principal } from '../../src/domain/accounts.ts'
import { decide } from '../../src/kernel/index.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const adminUser: Principal = { id: 'ada', roles: ['admin'], accounts: [], liveAllowed: false }
const order = (tag: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '59000', client_order_id: tag })

describe('sends decided on the market at the send, decided again from their command records', () => {
  test('a send blocked on a stale price and a mode escalation re-decide the same; without the recorded market, not', async () => {
    const world = await startWorld({ seed: 7 })
    worlds.push(world)
    world.gateway.engine.commandRecords = true
    const nowMs = world.clock.nowMs()
    world.venue.setFaults({
      outages: [{ startMs: nowMs, endMs: nowMs + 8_000, calls: 'retryable', reports: 'hold' }],
      priceStalls: [{ symbol: 'BTC-USD', startMs: nowMs, endMs: nowMs + 60_000 }],
    })
    const stale = await world.gateway.place(traderA, order('stale-1'), null)
    if (stale.reply.kind !== 'accepted') throw new Error(JSON.stringify(stale.reply))
    await run(world, 12_000)
    // Sent before (the throttled attempts), so the block does not reject it: read back, it ends Failed (send.ts).
    expect(world.gateway.engine.state.orders.get(stale.reply.orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, lastReason: 'RECONCILE_NOT_FOUND' })

    const outageMs = world.clock.nowMs()
    world.venue.setFaults({ outages: [{ startMs: outageMs, endMs: outageMs + 8_000, calls: 'retryable', reports: 'hold' }] })
    const held = await world.gateway.place(traderA, order('held-1'), null)
    if (held.reply.kind !== 'accepted') throw new Error(JSON.stringify(held.reply))
    await run(world, 500)
    expect(world.gateway.engine.state.orders.get(held.reply.orderId)).toMatchObject({ status: 'Enqueued', sendAttempts: 1 })
    await world.gateway.setMode(adminUser, 'shadow', 'spec')
    await world.gateway.setMode(adminUser, 'paper', 'spec')
    // Sent before (answered retryable), so not ended on the spot: read back with the cancel wanted (cancel.ts).
    expect(world.gateway.engine.state.orders.get(held.reply.orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true, lastReason: 'MODE_ESCALATED' })
    await run(world, 10_000)
    expect(world.gateway.engine.state.orders.get(held.reply.orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, cancelWanted: true })
    await world.gateway.stop()

    const logDir = join(world.dir, 'log')
    const redecided = redecideLog(logDir)
    expect(redecided.mismatches).toBe(0)
    expect(redecided.decisions).toBeGreaterThan(0)
    // The blocked send was among them, decided on the market its record holds: without it, it is sent.
    const withoutMarket = redecideLog(logDir, {
      decide: (state, command) => {
        if (command.kind !== 'send') return decide(state, command)
        const { market: _market, ...older } = command
        return decide(state, older)
      },
    })
    expect(withoutMarket.mismatches).toBeGreaterThanOrEqual(1)
  })
})
