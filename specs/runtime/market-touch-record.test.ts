/**
 * The sim venue's touch travels with the reference price into the command the kernel decides, so it is in the
 * kernel.command record (what a standby's shadow and scripts/redecide-log.ts decide again from) and the log
 * re-decides the same.
 */

import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { decodeCommandRecord, isCommandRecord, redecideLog } from '../../src/runtime/ha/index.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

describe('market fact with the book touch', () => {
  test("a place's command record holds the venue's touch at the time of the place, and the log re-decides the same", async () => {
    const world = await startWorld({ seed: 11 })
    worlds.push(world)
    world.gateway.engine.commandRecords = true
    const quote = world.venue.referencePrice('BTC-USD')
    if (quote === null) throw new Error('no BTC-USD price')
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 't-1' }, null)
    expect(placed.reply.kind).toBe('accepted')
    await run(world, 2_000)
    await world.gateway.stop()

    const places = Array.from(world.gateway.engine.wal.read(world.gateway.engine.wal.firstLsn), (frame) => (isCommandRecord(frame.type) ? decodeCommandRecord(frame).command : null))
      .filter((command) => command?.kind === 'place')
    expect(places).toHaveLength(1)
    const market = places[0]?.kind === 'place' ? places[0].market : null
    expect(market?.touch).toEqual(quote.touch)
    expect(quote.touch.askQty).toBeGreaterThan(0n)

    const redecided = redecideLog(join(world.dir, 'log'))
    expect(redecided.mismatches).toBe(0)
    expect(redecided.decisions).toBeGreaterThan(1)
  })
})
