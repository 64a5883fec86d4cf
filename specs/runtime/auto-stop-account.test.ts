/**
 * The order_rate breaker with scope `account` stops the account whose rate it tripped on, not the gateway (seed 004 §9:
 * accounts apart; src/runtime/auto-stop.ts, src/kernel/account-switch.ts): that account's next place is refused
 * ACCOUNT_HALTED while another account's is accepted, the stop is an `account.switch_changed` record that survives a
 * restart and a snapshot (its records compacted away), the account's RESUME lifts it (and re-arms its window), and so
 * does the gateway's RESUME.
 */

import { afterAll, expect, test } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import { accountSwitchRecords, autoStopWorld, expectNoErrors, placeResting, switchRecords } from './auto-stop-support.ts'
import { opsUser, removeDir, run, startWorld, traderA, traderB, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const ORDER_RATE = { windowMs: 60_000, ordersMax: 2, scope: 'account', action: 'HALT' } as const
const TRIP_NOTE = 'auto-stop order_rate: 3 new orders accepted for account acct-a in the last 60000 ms, above 2'

let keys = 0

/** A resting buy of `principal`'s first account, and the kernel's answer to it (not waited for at the venue). */
async function place(world: World, principal: Principal): Promise<{ kind: string; reason?: string }> {
  const account = principal.accounts[0] as string
  const body = { account, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: `acct-stop-${++keys}` }
  const { reply } = await world.gateway.place(principal, body, null)
  await run(world, 300)
  return reply as { kind: string; reason?: string }
}

/** acct-a runs away: three new orders within the window of two, and the breaker stops it. */
async function runaway(world: World): Promise<void> {
  for (let index = 0; index < 3; index++) await placeResting(world, traderA)
  await run(world, 300)
}

test("one account's runaway stops that account only: its next place is refused ACCOUNT_HALTED, another account's is accepted", async () => {
  const { world } = await autoStopWorld({ evaluateEveryMs: 1_000, orderRate: ORDER_RATE })
  worlds.push(world)
  await runaway(world)
  const state = world.gateway.engine.state
  expect(state.tradingSwitch).toBe('normal')
  expect(state.accountSwitches.get('acct-a')).toMatchObject({ switch: 'halted', principalId: 'egress-auto-stop', note: TRIP_NOTE })
  expect(await accountSwitchRecords(world)).toEqual([{ accountId: 'acct-a', action: 'HALT', principalId: 'egress-auto-stop', note: TRIP_NOTE }])
  expect(await switchRecords(world)).toEqual([])
  expect(await place(world, traderA)).toMatchObject({ kind: 'rejected', reason: 'ACCOUNT_HALTED' })
  expect(await place(world, traderB)).toMatchObject({ kind: 'accepted' })
  // The other account and the breaker go on: acct-b is counted and tripped on its own.
  expect(world.gateway.autoStop?.status()).toMatchObject({ armed: true, last_trip: { breaker: 'order_rate', note: TRIP_NOTE, account: 'acct-a' } })
  expect(await place(world, traderB)).toMatchObject({ kind: 'accepted' })
  expect(await place(world, traderB)).toMatchObject({ kind: 'accepted' })
  expect(world.gateway.engine.state.accountSwitches.get('acct-b')?.switch).toBe('halted')
  expect(world.gateway.engine.state.tradingSwitch).toBe('normal')
  expect(world.gateway.autoStop?.trips('order_rate')).toBe(2)
  expectNoErrors(world)
})

test("the account's RESUME lifts its stop and restarts its window; a repeat writes nothing; the gateway's RESUME lifts it too", async () => {
  const { world } = await autoStopWorld({ evaluateEveryMs: 1_000, orderRate: ORDER_RATE })
  worlds.push(world)
  const { gateway } = world
  await runaway(world)
  const resumed = await gateway.accountSwitch(opsUser, 'acct-a', 'RESUME', 'looked at it')
  expect(resumed.reply.kind).toBe('done')
  expect(resumed.lsn).not.toBeNull()
  expect(gateway.engine.state.accountSwitches.size).toBe(0)
  expect((await gateway.accountSwitch(opsUser, 'acct-a', 'RESUME', 'again')).lsn).toBeNull()
  // Three orders were accepted within the window, but before the RESUME: two more are within ordersMax, a third trips.
  expect(await place(world, traderA)).toMatchObject({ kind: 'accepted' })
  expect(await place(world, traderA)).toMatchObject({ kind: 'accepted' })
  expect(gateway.engine.state.accountSwitches.has('acct-a')).toBe(false)
  expect(await place(world, traderA)).toMatchObject({ kind: 'accepted' })
  expect(gateway.engine.state.accountSwitches.get('acct-a')?.switch).toBe('halted')
  // The gateway's RESUME (its switch normal) lifts the accounts' own.
  await gateway.killSwitch(opsUser, 'RESUME', 'all clear')
  expect(gateway.engine.state.accountSwitches.size).toBe(0)
  expect(await place(world, traderA)).toMatchObject({ kind: 'accepted' })
  expect((await accountSwitchRecords(world)).map((record) => `${record.principalId} ${record.action} ${record.note}`)).toEqual([
    `egress-auto-stop HALT ${TRIP_NOTE}`,
    'olga RESUME looked at it',
    `egress-auto-stop HALT ${TRIP_NOTE}`,
    'olga RESUME all clear',
  ])
  expect(await switchRecords(world)).toEqual([])
  expectNoErrors(world)
})

test("the gateway's RESUME of its own HALT lifts an account's stop in the same decision", async () => {
  const { world } = await autoStopWorld({ evaluateEveryMs: 1_000, orderRate: ORDER_RATE })
  worlds.push(world)
  const { gateway } = world
  await runaway(world)
  await gateway.killSwitch(opsUser, 'HALT', 'everything')
  expect(await place(world, traderA)).toMatchObject({ kind: 'rejected', reason: 'MODE_HALTED' })
  await gateway.killSwitch(opsUser, 'RESUME', 'all clear')
  expect(gateway.engine.state.tradingSwitch).toBe('normal')
  expect(gateway.engine.state.accountSwitches.size).toBe(0)
  expect(await place(world, traderA)).toMatchObject({ kind: 'accepted' })
  expectNoErrors(world)
})

test('the stop survives a restart, and a snapshot with its record compacted away; it is lifted after either', async () => {
  const snapshots = { atShutdown: false, keep: 1, compaction: 'delete' as const }
  const wal = { segmentBytesMax: 4096 }
  const world = await startWorld({ seed: 11, snapshots, wal, autoStop: { evaluateEveryMs: 1_000, orderRate: ORDER_RATE } })
  dirs.push(world.dir)
  await runaway(world)
  expect(world.gateway.engine.state.accountSwitches.get('acct-a')?.switch).toBe('halted')
  const stoppedLsn = world.gateway.engine.wal.lastLsn
  await world.gateway.stop()

  // Started without the breakers: the stop is the log's, not theirs.
  const restarted = await startWorld({ seed: 11, dir: world.dir, clock: world.clock, venue: world.venue, snapshots, wal })
  expect(restarted.gateway.engine.state.accountSwitches.get('acct-a')).toMatchObject({ switch: 'halted', note: TRIP_NOTE })
  expect(await place(restarted, traderA)).toMatchObject({ kind: 'rejected', reason: 'ACCOUNT_HALTED' })
  // acct-b's orders roll the log past the stop's record.
  for (let index = 0; index < 30; index++) expect(await place(restarted, traderB)).toMatchObject({ kind: 'accepted' })
  await restarted.gateway.snapshot()
  expect(restarted.gateway.engine.wal.firstLsn).toBeGreaterThan(stoppedLsn)
  await restarted.gateway.stop()

  const fromSnapshot = await startWorld({ seed: 11, dir: world.dir, clock: world.clock, venue: world.venue, snapshots, wal })
  worlds.push(fromSnapshot)
  expect(fromSnapshot.gateway.restoreReport?.snapshot).not.toBeNull()
  expect(fromSnapshot.gateway.engine.state.accountSwitches.get('acct-a')).toMatchObject({ switch: 'halted', principalId: 'egress-auto-stop', note: TRIP_NOTE })
  expect(await place(fromSnapshot, traderA)).toMatchObject({ kind: 'rejected', reason: 'ACCOUNT_HALTED' })
  await fromSnapshot.gateway.accountSwitch(opsUser, 'acct-a', 'RESUME', 'after the restore')
  expect(await place(fromSnapshot, traderA)).toMatchObject({ kind: 'accepted' })
  expect([...world.errors, ...restarted.errors, ...fromSnapshot.errors]).toEqual([])
}, 60_000)
