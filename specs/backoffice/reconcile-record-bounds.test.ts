/**
 * What a reconcile run writes must be what the log can take and read back:
 * - a venue's error text reached the run's skipped-check detail whole; its record, past the 1,024-character bound the
 *   read checks, was written, and every later read of the log failed on it (the back office's start, so serve's);
 * - every suspect went into the run's record; ~6,300 venue differences made it larger than a record may be (1 MiB), so
 *   every run was refused from then on — and the engine had reserved LSNs for it, so the next order stopped the process
 *   ("engine predicted LSN …, log assigned …").
 * Now texts are cut to the bound (boundedText), the suspects recorded are bounded (SUSPECTS_RECORDED_MAX), a record
 * that would not read back is not written, and a record the log would refuse takes no LSN.
 */

import { expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { decodeBackOfficeRecord, isBackOfficeRecord } from '../../src/backoffice/index.ts'
import { RECORD_TEXT_CHARS_MAX } from '../../src/backoffice/breaks.ts'
import { SUSPECTS_RECORDED_MAX } from '../../src/backoffice/reconcile-records.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { WalRecordError } from '../../wal/index.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

async function tradedWorld(seed: number): Promise<World> {
  const world = await startWorld({ seed })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '61000', client_order_id: 'bounds-1' }, null)
  expect(placed.reply.kind).toBe('accepted')
  await run(world, 300)
  return world
}

/** Every back-office record in the log, decoded as a start reads them (throws on one it cannot read). */
function decodedBackOfficeRecords(world: World): number {
  let count = 0
  const wal = world.gateway.engine.wal
  for (const frame of wal.read(wal.firstLsn)) {
    if (!isBackOfficeRecord(frame.type)) continue
    decodeBackOfficeRecord(frame)
    count++
  }
  return count
}

test("a venue's long error text is cut to what a record holds, and the log still reads back and restarts", async () => {
  const world = await tradedWorld(5)
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const reason = `venue said: ${'z'.repeat(1_100)}`
  ;(world.venue as unknown as { balances: () => Promise<unknown> }).balances = async () => ({ kind: 'unknown', reason })
  const result = await drive(world, office.reconcile())
  expect(result.skipped.length).toBeGreaterThan(0)
  await run(world, 300)
  expect(decodedBackOfficeRecords(world)).toBeGreaterThan(0)
  const lastRun = office.projector.breaks.lastRun
  const details = lastRun?.skipped.map((skipped) => skipped.detail) ?? []
  expect(details.some((detail) => detail.length === RECORD_TEXT_CHARS_MAX && detail.endsWith('…'))).toBe(true)
  await world.gateway.stop()
  const again = await startWorld({ seed: 5, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(again)
  expect(backOfficeOf(again.gateway, { reconcileIntervalMs: null }).projector.breaks.lastRun?.runId).toBe(lastRun?.runId)
  expect(world.errors.filter((error) => error.includes('Invalid length'))).toEqual([])
})

test('a run seeing more venue differences than a record could list still records, opens its breaks, and trading goes on', async () => {
  const world = await tradedWorld(7)
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const nowMs = world.clock.nowMs()
  const trades = Array.from({ length: 6_500 }, (_, index) => ({
    execId: `ext-exec-${index}`, clientOrderId: `manual-${index}`, venueOrderId: `v-${index}`, account: 'acct-a', symbol: 'BTC-USD', side: 'buy' as const,
    qty: parseDecimal('0.001'), price: parseDecimal('61000'), fee: parseDecimal('0.01'), feeAsset: 'USD', liquidity: 'taker' as const, venueTimeMs: nowMs - 3_600_000,
  }))
  ;(world.venue as unknown as { trades: () => Promise<unknown> }).trades = async () => ({ kind: 'ok', value: trades })
  const first = await drive(world, office.reconcile())
  expect(first.suspected.length).toBeGreaterThan(SUSPECTS_RECORDED_MAX)
  await run(world, 1_000)
  expect(office.projector.breaks.lastRun?.runId).toBe(first.runId)
  expect(office.projector.breaks.lastRun?.suspects?.length).toBe(SUSPECTS_RECORDED_MAX)
  const second = await drive(world, office.reconcile())
  expect(second.opened.length).toBeGreaterThan(0)
  await run(world, 1_000)
  expect(decodedBackOfficeRecords(world)).toBeGreaterThan(0)
  const next = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: 'bounds-2' }, null)
  expect(next.reply.kind).toBe('accepted')
  await run(world, 500)
  expect(world.errors).toEqual([])
}, 60_000)

test('a record the log would refuse is refused before it takes an LSN: the next command lands where the engine said', async () => {
  const world = await tradedWorld(9)
  const { engine } = world.gateway
  const before = engine.appendedLsn
  const tooLarge = { type: 7, version: 1, payload: new Uint8Array((1 << 20) + 1) }
  await expect(engine.appendRecords([tooLarge])).rejects.toBeInstanceOf(WalRecordError)
  expect(engine.appendedLsn).toBe(before)
  const next = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: 'bounds-3' }, null)
  expect(next.reply.kind).toBe('accepted')
  await run(world, 300)
  expect(world.errors).toEqual([])
})
