/**
 * The auto-stop breakers on a simulated clock (src/runtime/auto-stop.ts, config `autoStop`): each trips with its
 * action when its figure goes above its threshold, and not at the threshold, writing one `switch.changed` record as
 * egress-auto-stop whose note names the breaker, its figures and its threshold.
 */

import { describe, expect, test } from 'bun:test'
import { AUTO_STOP_PRINCIPAL } from '../../src/runtime/auto-stop.ts'
import { slowAllowed } from '../../src/runtime/auto-stop-breakers.ts'
import { accountSwitchRecords, autoStopWorld, expectNoErrors, placeResting, switchRecords } from './auto-stop-support.ts'
import { run, traderA, traderB, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const REJECT = { kind: 'rejected', reason: 'insufficient_funds' } as const

describe('auto-stop breakers', () => {
  test('venue_rejects: at most rejectPctMax % of the answers (or under samplesMin answers) does not trip; above it engages its action once', async () => {
    const { world, venue } = await autoStopWorld({ evaluateEveryMs: 1_000, venueRejects: { windowMs: 60_000, samplesMin: 4, rejectPctMax: 50, action: 'CANCEL_ONLY' } })
    worlds.push(world)
    const { gateway } = world
    // 1 reject of 1 answer: 100 %, but under samplesMin.
    venue.placeAnswers.push(REJECT)
    await placeResting(world, traderA)
    await placeResting(world, traderA)
    await placeResting(world, traderA)
    // 2 of 4: 50 %, not above 50.
    venue.placeAnswers.push(REJECT)
    await placeResting(world, traderA)
    expect(gateway.engine.state.tradingSwitch).toBe('normal')
    expect(await switchRecords(world)).toEqual([])
    // 3 of 5: 60 %.
    venue.placeAnswers.push(REJECT)
    await placeResting(world, traderA)
    expect(gateway.engine.state.tradingSwitch).toBe('cancel_only')
    expect(await switchRecords(world)).toEqual([
      {
        action: 'CANCEL_ONLY',
        principalId: AUTO_STOP_PRINCIPAL.id,
        note: 'auto-stop venue_rejects: 3 of 5 answers of venue sim to places were rejects (60%) in the last 60000 ms, above 50% (at least 4 answers)',
      },
    ])
    expect(gateway.autoStop?.trips('venue_rejects')).toBe(1)
    expectNoErrors(world)
  })

  test('unknown_orders: ordersMax orders Unknown past the dwell do not trip; one more trips once its dwell has passed, not before', async () => {
    const { world, venue } = await autoStopWorld({ evaluateEveryMs: 250, unknownOrders: { ordersMax: 2, dwellMs: 5_000, action: 'HALT' } })
    worlds.push(world)
    const { gateway } = world
    venue.statusUnanswered = true
    venue.placeAnswers.push({ kind: 'unknown', reason: 'timeout' }, { kind: 'unknown', reason: 'timeout' })
    await placeResting(world, traderA)
    await placeResting(world, traderA)
    await run(world, 6_000)
    expect(gateway.autoStop?.status()).toMatchObject({ armed: true, breakers: [{ breaker: 'unknown_orders', orders: 2 }] })
    expect(gateway.engine.state.tradingSwitch).toBe('normal')
    venue.placeAnswers.push({ kind: 'unknown', reason: 'timeout' })
    await placeResting(world, traderA)
    await run(world, 4_500)
    expect(gateway.engine.state.tradingSwitch).toBe('normal')
    await run(world, 1_000)
    expect(gateway.engine.state.tradingSwitch).toBe('halted')
    expect(await switchRecords(world)).toEqual([{ action: 'HALT', principalId: 'egress-auto-stop', note: 'auto-stop unknown_orders: 3 orders Unknown for 5000 ms or longer, above 2' }])
    await run(world, 2_000)
    expect((await switchRecords(world)).length).toBe(1)
    expectNoErrors(world)
  })

  test('order_rate per account: ordersMax new orders in the window do not trip, nor do another account\'s; one more stops that account (not the gateway)', async () => {
    const { world } = await autoStopWorld({ evaluateEveryMs: 1_000, orderRate: { windowMs: 10_000, ordersMax: 3, scope: 'account', action: 'HALT' } })
    worlds.push(world)
    const { gateway } = world
    for (let index = 0; index < 3; index++) await placeResting(world, traderA)
    for (let index = 0; index < 3; index++) await placeResting(world, traderB)
    // The window slides: the three of acct-a leave it, and three more stay within.
    await run(world, 10_600)
    for (let index = 0; index < 3; index++) await placeResting(world, traderA)
    expect(gateway.engine.state.accountSwitches.size).toBe(0)
    await placeResting(world, traderA)
    expect(gateway.engine.state.accountSwitches.get('acct-a')?.switch).toBe('halted')
    expect(gateway.engine.state.tradingSwitch).toBe('normal')
    const note = 'auto-stop order_rate: 4 new orders accepted for account acct-a in the last 10000 ms, above 3'
    expect(await accountSwitchRecords(world)).toEqual([{ accountId: 'acct-a', action: 'HALT', principalId: 'egress-auto-stop', note }])
    expect(await switchRecords(world)).toEqual([])
    expectNoErrors(world)
  })

  test('order_rate over all accounts counts every account together', async () => {
    const { world } = await autoStopWorld({ evaluateEveryMs: 1_000, orderRate: { windowMs: 10_000, ordersMax: 3, scope: 'all', action: 'CANCEL_ONLY' } })
    worlds.push(world)
    await placeResting(world, traderA)
    await placeResting(world, traderB)
    await placeResting(world, traderA)
    expect(world.gateway.engine.state.tradingSwitch).toBe('normal')
    await placeResting(world, traderB)
    expect(world.gateway.engine.state.tradingSwitch).toBe('cancel_only')
    expect((await switchRecords(world)).map((record) => record.note)).toEqual(['auto-stop order_rate: 4 new orders accepted over all accounts in the last 10000 ms, above 3'])
  })

  test('ack_latency: calls answered in p99MsMax exactly do not trip; the p99 above it does, over samplesMin calls', async () => {
    const { world, venue } = await autoStopWorld({ evaluateEveryMs: 1_000, ackLatency: { windowMs: 60_000, samplesMin: 5, p99MsMax: 100, action: 'HALT' } })
    worlds.push(world)
    const { gateway } = world
    // The sim takes 5 ms each way, and this venue waits 90 ms before it: answered 100 ms after the call, not above.
    venue.placeDelayMs = 90
    for (let index = 0; index < 5; index++) await placeResting(world, traderA)
    expect(gateway.autoStop?.status()).toMatchObject({ breakers: [{ breaker: 'ack_latency', venues: [{ venue: 'sim', calls: 5, slow: 0 }] }] })
    expect(gateway.engine.state.tradingSwitch).toBe('normal')
    // With 6 calls the p99 is the slowest: one call slower than 100 ms puts it above.
    venue.placeDelayMs = 91
    await placeResting(world, traderA)
    expect(gateway.engine.state.tradingSwitch).toBe('halted')
    expect((await switchRecords(world)).map((record) => record.note)).toEqual([
      "auto-stop ack_latency: p99 of venue sim's answers to places, cancels and amends above 100 ms: 1 of 6 calls slower in the last 60000 ms, at most 0 may be (at least 5 calls)",
    ])
    expectNoErrors(world)
  })

  test('the p99 bound: of n calls, n − ⌈0.99 n⌉ may be slower', () => {
    expect([1, 5, 99, 100, 101, 200, 250, 1_000].map(slowAllowed)).toEqual([0, 0, 0, 1, 1, 2, 2, 10])
  })
})
