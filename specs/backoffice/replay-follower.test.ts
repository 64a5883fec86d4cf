/**
 * The replay follower keeps the replay ledger — in its worker thread — near the log's head between reconcile runs
 * (so no run folds an interval's records at once), never lets two folds overlap, and survives the worker's loss.
 */

import { afterEach, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { ledgerFigures, ledgerVsReplay } from '../../src/backoffice/internal-checks.ts'
import { ReplayFollower } from '../../src/backoffice/replay-follower.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SimClock } from '../../src/runtime/clock.ts'
import { eventCode } from '../../src/domain/events/registry.ts'
import { Wal } from '../../wal/index.ts'

const worlds = worldsStoppedAfterEach()

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
    // Filled before the next: a marketable buy and sell of one account in flight together cross (SELF_TRADE_PREVENTED).
    await run(target, 100)
  }
  await run(target, 300)
}

const followers: ReplayFollower[] = []
afterEach(async () => {
  for (const follower of followers.splice(0)) await follower.stop()
})

function followerOf(target: World): ReplayFollower {
  const follower = new ReplayFollower({ wal: target.gateway.engine.wal, base: () => 'genesis' })
  followers.push(follower)
  return follower
}

/** Real time passes for the worker's answers while the simulated clock fires the follower's ticks. */
async function runUntil(target: World, done: () => boolean): Promise<void> {
  for (let step = 0; !done() && step < 2_000; step++) {
    await target.clock.advanceAsync(10)
    await Bun.sleep(1)
  }
}

test('between reconcile runs, the follower folds the log as it grows, to the same ledger as the live one', async () => {
  const target = await tradedWorld(51, 20)
  const live = backOfficeOf(target.gateway, { reconcileIntervalMs: null }).projector.ledger
  const follower = followerOf(target)
  follower.follow({ clock: target.clock, intervalMs: 100, target: () => live.lastLsn, held: () => false })
  await runUntil(target, () => follower.foldedLsn === live.lastLsn)
  await follower.idle()
  expect(follower.foldedLsn).toBe(live.lastLsn)
  await trade(target, 10, 'q')
  await runUntil(target, () => follower.foldedLsn === live.lastLsn)
  await follower.idle()
  expect(follower.foldedLsn).toBe(live.lastLsn)
  const figures = await follower.figuresAt(live.lastLsn)
  if (figures === 'gap') throw new Error('gap')
  expect(figures.books.size).toBeGreaterThan(0)
  expect(ledgerVsReplay(ledgerFigures(live), figures)).toEqual([])
})

test('the follower folds nothing while held (a reconcile is comparing)', async () => {
  const target = await tradedWorld(52, 10)
  const live = backOfficeOf(target.gateway, { reconcileIntervalMs: null }).projector.ledger
  const follower = followerOf(target)
  let held = true
  follower.follow({ clock: target.clock, intervalMs: 100, target: () => live.lastLsn, held: () => held })
  await run(target, 500)
  expect(follower.started).toBe(false)
  held = false
  await runUntil(target, () => follower.foldedLsn === live.lastLsn)
  await follower.idle()
  expect(follower.foldedLsn).toBe(live.lastLsn)
})

test('folds asked for together go one after another: each slice starts where the last answer ended', async () => {
  const target = await tradedWorld(53, 20)
  const wal = target.gateway.engine.wal
  const slices: [number, number][] = []
  const spied = new Proxy(wal, {
    get(log, property) {
      if (property === 'slice') return (fromLsn: number, toLsn: number) => (slices.push([fromLsn, toLsn]), log.slice(fromLsn, toLsn))
      const value = Reflect.get(log, property, log)
      return typeof value === 'function' ? value.bind(log) : value
    },
  })
  const follower = new ReplayFollower({ wal: spied, base: () => 'genesis' })
  followers.push(follower)
  expect(follower.ready()).toBe(true)
  const half = Math.floor(wal.lastLsn / 2)
  const outcomes = await Promise.all([follower.catchUp(half), follower.catchUp(wal.lastLsn), follower.catchUp(half)])
  expect(outcomes).toEqual(['done', 'done', 'done'])
  expect(follower.foldedLsn).toBe(wal.lastLsn)
  // The third asks for nothing new: no request. The second starts right after the first's end.
  expect(slices).toEqual([[1, half], [half + 1, wal.lastLsn]])
})

test('a record the fold cannot decode fails the request where it lies; background follows wait for a reconcile instead of retrying', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-replay-bad-'))
  const wal = Wal.open(dir, { durability: 'none', preallocateBytes: 0, scheduleFlush: queueMicrotask })
  try {
    for (let i = 0; i < 5; i++) await wal.append([{ type: 0xa001, version: 1, payload: new TextEncoder().encode('audit') }])
    await wal.append([{ type: eventCode('order.accepted'), version: 1, payload: new Uint8Array([1, 2, 3]) }])
    const slices: number[] = []
    const spied = new Proxy(wal, {
      get(log, property) {
        if (property === 'slice') return (fromLsn: number, toLsn: number) => (slices.push(fromLsn), log.slice(fromLsn, toLsn))
        const value = Reflect.get(log, property, log)
        return typeof value === 'function' ? value.bind(log) : value
      },
    })
    const follower = new ReplayFollower({ wal: spied, base: () => 'genesis' })
    followers.push(follower)
    expect(follower.ready()).toBe(true)
    await expect(follower.catchUp(6)).rejects.toThrow(/could not fold/)
    expect(follower.started).toBe(true)
    expect(follower.foldedLsn).toBe(5) // stopped at the record it could not decode, kept there
    const clock = new SimClock({ startMs: 0 })
    follower.follow({ clock, intervalMs: 100, target: () => 6, held: () => false })
    for (let step = 0; step < 20; step++) {
      await clock.advanceAsync(100)
      await Bun.sleep(1)
    }
    expect(slices).toEqual([1]) // no retry per interval
    await expect(follower.figuresAt(6)).rejects.toThrow(/could not fold/) // a reconcile asks, and fails at once
    expect(slices).toEqual([1, 6])
  } finally {
    await wal.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a worker that dies is replaced: the next request starts over from the base and answers the same figures', async () => {
  const target = await tradedWorld(55, 10)
  const live = backOfficeOf(target.gateway, { reconcileIntervalMs: null }).projector.ledger
  const follower = followerOf(target)
  expect(follower.ready()).toBe(true)
  const before = await follower.figuresAt(live.lastLsn)
  if (before === 'gap') throw new Error('gap')
  // The worker is killed from outside (as a crash of its thread would end it).
  ;(follower as unknown as { channel: { worker: Worker } }).channel.worker.terminate()
  for (let waited = 0; follower.started && waited < 5_000; waited += 10) await Bun.sleep(10)
  expect(follower.started).toBe(false)
  expect(follower.ready()).toBe(true)
  const after = await follower.figuresAt(live.lastLsn)
  if (after === 'gap') throw new Error('gap')
  expect(ledgerVsReplay(before, after)).toEqual([])
  expect(ledgerVsReplay(ledgerFigures(live), after)).toEqual([])
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
  // The run first waits for a background fold under way (the worker answers in real time), then for the sim venue.
  for (let step = 0; !done && step < 4_000; step++) {
    await target.clock.advanceAsync(5)
    await Bun.sleep(1)
  }
  const outcome = await result
  expect(outcome.checks).toContain('ledger_vs_replay')
  expect(outcome.skipped).toEqual([])
  expect(outcome.observations).toEqual([])
})
