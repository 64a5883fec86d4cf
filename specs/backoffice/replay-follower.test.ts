/**
 * The replay follower keeps the replay ledger near the log's head between reconcile runs (so no run folds an
 * interval's records in one burst), paces its folds, and never lets two folds overlap.
 */

import { afterEach, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice.ts'
import { ledgerVsReplay } from '../../src/backoffice/internal-checks.ts'
import { ReplayFollower } from '../../src/backoffice/replay-follower.ts'
import { ReplayLedger } from '../../src/backoffice/replay-ledger.ts'
import { removeDir, run, startWorld, traderA, type World } from '../runtime/harness.ts'

const worlds: World[] = []
afterEach(async () => {
  for (const world of worlds.splice(0)) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

async function tradedWorld(seed: number, orders: number): Promise<World> {
  const target = await startWorld({ seed })
  worlds.push(target)
  await trade(target, orders, 'p')
  return target
}

async function trade(target: World, orders: number, prefix: string): Promise<void> {
  for (let index = 0; index < orders; index++) {
    const side = index % 2 === 0 ? 'buy' : 'sell'
    const body = { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty: '0.01', price: side === 'buy' ? '61000' : '59000', client_order_id: `${prefix}-${index}` }
    expect((await target.gateway.place(traderA, body, null)).reply.kind).toBe('accepted')
  }
  await run(target, 300)
}

/** A pause that only counts (and yields a microtask), so a fold runs as fast as the test can drive it. */
function countingPause(counter: { pauses: number }): () => () => Promise<void> {
  return () => async () => void counter.pauses++
}

test('between reconcile runs, the follower folds the log as it grows, to the same ledger as the live one', async () => {
  const target = await tradedWorld(51, 20)
  const live = backOfficeOf(target.gateway, { reconcileIntervalMs: null }).projector.ledger
  const replay = new ReplayLedger({ sliceMs: 0 })
  const counter = { pauses: 0 }
  const follower = new ReplayFollower({ wal: target.gateway.engine.wal, replay, base: () => 'genesis', pause: countingPause(counter) })
  follower.follow({ clock: target.clock, intervalMs: 100, target: () => live.lastLsn, held: () => false })
  await run(target, 200)
  await follower.idle()
  expect(replay.foldedLsn).toBe(live.lastLsn)
  expect(counter.pauses).toBeGreaterThan(0) // sliceMs 0: every slice ends in a (paced) pause
  await trade(target, 10, 'q')
  await run(target, 200)
  await follower.idle()
  expect(replay.foldedLsn).toBe(live.lastLsn)
  expect(ledgerVsReplay(live, replay.ledger)).toEqual([])
  await follower.stop()
})

test('the follower folds nothing while held (a reconcile is comparing)', async () => {
  const target = await tradedWorld(52, 10)
  const live = backOfficeOf(target.gateway, { reconcileIntervalMs: null }).projector.ledger
  const replay = new ReplayLedger()
  const follower = new ReplayFollower({ wal: target.gateway.engine.wal, replay, base: () => 'genesis', pause: countingPause({ pauses: 0 }) })
  let held = true
  follower.follow({ clock: target.clock, intervalMs: 100, target: () => live.lastLsn, held: () => held })
  await run(target, 500)
  expect(replay.started).toBe(false)
  held = false
  await run(target, 200)
  await follower.idle()
  expect(replay.foldedLsn).toBe(live.lastLsn)
  await follower.stop()
})

test('folds asked for while one is suspended between slices wait for it: no overlap, no false gap', async () => {
  const target = await tradedWorld(53, 20)
  const wal = target.gateway.engine.wal
  const replay = new ReplayLedger({ sliceMs: 0 })
  // Real event-loop turns between slices, so two unserialised folds would interleave their readers.
  const follower = new ReplayFollower({ wal, replay, base: () => 'genesis', pause: () => () => new Promise((resolve) => setImmediate(resolve)) })
  expect(follower.ready()).toBe(true)
  const half = Math.floor(wal.lastLsn / 2)
  const outcomes = await Promise.all([follower.catchUp(half), follower.catchUp(wal.lastLsn), follower.catchUp(half)])
  expect(outcomes).toEqual(['done', 'done', 'done'])
  expect(replay.foldedLsn).toBe(wal.lastLsn)
})

test('a back office reconciling on its own keeps its replay current, and a run during a background fold compares cleanly', async () => {
  const target = await tradedWorld(54, 20)
  // Reconcile on its own (the follower runs), but not within this test's time.
  const office = backOfficeOf(target.gateway, { reconcileIntervalMs: 3_600_000 })
  await trade(target, 20, 'q')
  // Some folding under way or done in the background, then a run on demand.
  await run(target, 150)
  let done = false
  const result = office.reconcile().finally(() => (done = true))
  // The run first waits for the background fold, whose pauses are real time (pacing), then for the sim venue.
  for (let step = 0; !done && step < 4_000; step++) {
    await target.clock.advanceAsync(5)
    await Bun.sleep(1)
  }
  const outcome = await result
  expect(outcome.checks).toContain('ledger_vs_replay')
  expect(outcome.skipped).toEqual([])
  expect(outcome.observations).toEqual([])
})
