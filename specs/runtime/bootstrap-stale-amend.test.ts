/**
 * Amends still waiting in Lane2 when the process stopped (src/kernel/stale-at-start.ts, src/runtime/bootstrap.ts): one
 * requested longer before the start than the resend window (resendAgeMsMax) is not sent — it fails STALE_AT_START
 * before the executor may pick it, and the order rests at the venue at its old terms; a younger one, even of an order
 * accepted longer ago than the window, is sent as before. A start that replays the log and one that restores a snapshot
 * holding the amends decide the same, and the log decides the same on replay and re-decide.
 */

import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { parseDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { rebuildState } from '../../src/runtime/snapshot/index.ts'
import type { SimVenue } from '../../src/venues/sim/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { crashCopyAt, crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 62
const OLD_PRICE = parseDecimal('59000')
const NEW_PRICE = parseDecimal('58500')

/** Two orders resting at the venue, each amended while the executor is stopped: `old` 70 s before the start, `young` 20 s. */
async function stoppedWithAmendsWaiting(): Promise<{ world: World; old: string; young: string }> {
  const world = await startWorld({ seed: SEED, commandRecords: true })
  worlds.push(world)
  const ids: string[] = []
  for (const tag of ['old', 'young']) {
    // 59000 rests below the sim's reference price.
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: tag }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    ids.push(placed.reply.orderId)
  }
  await run(world, 1_000)
  world.gateway.executor.stop()
  const [old, young] = ids as [string, string]
  for (const [orderId, waitMs] of [[old, 50_000], [young, 0]] as const) {
    const amended = await world.gateway.amend(traderA, orderId, { qty: null, price: NEW_PRICE })
    expect(amended.reply.kind).toBe('amend_accepted')
    await world.clock.advanceAsync(waitMs)
  }
  for (const orderId of ids) expect(world.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'AckedOpen', amend: { stage: 'requested' } })
  await world.gateway.snapshot()
  await crashWorld(world)
  await world.clock.advanceAsync(20_000)
  return { world, old, young }
}

function logEvents(dir: string): DomainEvent[] {
  const events: DomainEvent[] = []
  const log = openReadOnly(join(dir, 'log'))
  for (const frame of log.read(log.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}

/** The prices the venue holds the order at (under any id of its chain). */
function pricesAtVenue(venue: SimVenue, orderId: string): (bigint | undefined)[] {
  return venue
    .inspect()
    .orders.filter((order) => order.clientOrderIds.some((id) => id.startsWith(`eg-${orderId}`)))
    .map((order) => order.price)
}

describe('a start after a stop with amends still waiting', () => {
  for (const restore of ['replay', 'snapshot'] as const) {
    test(`(${restore}) one requested longer ago than the resend window fails STALE_AT_START, never sent, the order resting at its old terms; a younger one is sent`, async () => {
      const { world, old, young } = await stoppedWithAmendsWaiting()
      const lastLsn = openReadOnly(join(world.dir, 'log')).lastLsn
      // replay: the log alone (no snapshot); snapshot: the one taken with both amends waiting, at the log's end.
      const dir = restore === 'replay' ? crashCopyAt(world.dir, lastLsn) : world.dir
      const restarted = await startWorld({ seed: SEED, dir, clock: world.clock, venue: world.venue, commandRecords: true })
      worlds.push(restarted)
      expect(restarted.gateway.restoreReport?.snapshot?.lsn ?? null).toBe(restore === 'snapshot' ? lastLsn : null)
      await run(restarted, 1_000)
      const state = restarted.gateway.engine.state

      expect(state.orders.get(old)).toMatchObject({ status: 'AckedOpen', price: OLD_PRICE, lastReason: 'STALE_AT_START', amend: { amendId: 1, stage: 'failed' } })
      expect(pricesAtVenue(world.venue, old)).toEqual([OLD_PRICE])
      const oldEvents = logEvents(dir).filter((event) => 'orderId' in event && event.orderId === old)
      expect(oldEvents.filter((event) => event.type.startsWith('order.amend')).map((event) => event.type)).toEqual(['order.amend_requested', 'order.amend_failed'])
      expect(oldEvents.at(-1)).toMatchObject({ type: 'order.amend_failed', reason: 'STALE_AT_START' })
      expect(restarted.gateway.bootstrapReport).toMatchObject({ staleEnded: 0, staleAmendsFailed: 1 })

      // Its order was accepted 71 s before the start, past the window; its amend, 20 s before, was not.
      expect(state.orders.get(young)).toMatchObject({ status: 'AckedOpen', price: NEW_PRICE, amend: null })
      expect(pricesAtVenue(world.venue, young)).toEqual([NEW_PRICE])
      expect(world.venue.inspect().requests.calls.amend).toBe(1)
      expect(restarted.errors).toEqual([])

      await restarted.gateway.engine.settled()
      const logDir = join(restarted.dir, 'log')
      expect(stateDigest(rebuildState(openReadOnly(logDir)).state)).toBe(stateDigest(state))
      const report = redecideLog(logDir)
      expect([report.mismatches, report.lastMismatches, report.eventsWithoutCommand]).toEqual([0, [], 0])
    })
  }
})
