/**
 * The replay ledger decodes the log without the members the fold never reads (src/backoffice/fold-unread.ts): folding
 * a varied run that way must give exactly the ledger a full decode gives.
 */

import { expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { isBackOfficeRecord } from '../../src/backoffice/breaks.ts'
import { FOLD_UNREAD_MEMBERS, foldEventOf } from '../../src/backoffice/fold-unread.ts'
import { ledgerFigures, ledgerVsReplay } from '../../src/backoffice/internal-checks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import { ReplayLedger } from '../../src/backoffice/replay-ledger.ts'
import { trustedDomainEventOf } from '../../src/runtime/records.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

/** Fills both ways (crossing buys and sells), orders that rest and are canceled or amended, IOC orders that expire. */
async function variedWorld(seed: number): Promise<World> {
  const world = await startWorld({ seed })
  worlds.push(world)
  const place = async (id: string, side: string, price: string, tif = 'GTC'): Promise<string> => {
    const result = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty: '0.01', price, tif, client_order_id: id }, null)
    expect(result.reply.kind).toBe('accepted')
    return (result.reply as { orderId: string }).orderId
  }
  // Each fills before the next: a marketable buy and sell of one account in flight together cross (SELF_TRADE_PREVENTED).
  for (let index = 0; index < 12; index++) {
    await place(`x-${index}`, index % 2 === 0 ? 'buy' : 'sell', index % 2 === 0 ? '61000' : '59000')
    await run(world, 100)
  }
  const resting: string[] = []
  for (let index = 0; index < 6; index++) resting.push(await place(`r-${index}`, 'buy', '59000'))
  for (let index = 0; index < 4; index++) await place(`i-${index}`, 'buy', '59000', 'IOC')
  await run(world, 300)
  for (const orderId of resting.slice(0, 3)) await world.gateway.cancel(traderA, orderId)
  for (const orderId of resting.slice(3)) await world.gateway.amend(traderA, orderId, { qty: 2_000_000n, price: null })
  await run(world, 500)
  return world
}

test('folding without the unread members gives the same ledger as a full decode', async () => {
  const world = await variedWorld(71)
  const wal = world.gateway.engine.wal
  const live = backOfficeOf(world.gateway, { reconcileIntervalMs: null }).projector.ledger
  const types = new Set<string>()
  const full = initialLedger()
  for (const frame of wal.read(1, { toLsn: live.lastLsn })) {
    if (isBackOfficeRecord(frame.type)) continue
    const event = trustedDomainEventOf(frame)
    if (event === null) continue
    types.add(event.type)
    expect(foldEventOf(frame)?.type).toBe(event.type)
    applyEvent(full, event, frame.lsn)
  }
  // The run exercises every event type whose members are left out, and fills (the liquidity the report carries).
  for (const type of FOLD_UNREAD_MEMBERS.keys()) expect(types.has(type)).toBe(true)
  expect(types.has('order.fill')).toBe(true)
  expect(full.counters.fills).toBeGreaterThan(0)
  const replay = new ReplayLedger()
  replay.start('genesis')
  expect(replay.foldTo(wal, live.lastLsn)).toBe('done')
  expect(replay.ledger).toEqual(full)
  expect(ledgerVsReplay(ledgerFigures(live), ledgerFigures(replay.ledger))).toEqual([])
})
