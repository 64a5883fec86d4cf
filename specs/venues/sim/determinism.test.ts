import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import type { PlaceRequest, VenueOutcome } from '../../../src/venues/adapter.ts'
import { SimReason, Xoshiro128ss, type SimFaults } from '../../../src/venues/index.ts'
import { harness, limit, market, within } from './fixture.ts'

const FAULTS: Partial<SimFaults> = {
  dropRequestProbability: 0.05,
  timeoutAfterApplyProbability: 0.05,
  cancelAckLostProbability: 0.2,
  throttleBurstProbability: 0.05,
  throttleBurstMs: 300,
  dropReportProbability: 0.05,
  duplicateReportProbability: 0.1,
  reorderReportProbability: 0.1,
  reorderDelayMsMax: 40,
}

const json = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))

/** A fixed workload (its own PRNG, independent of the venue seed) run against a venue; returns everything observed. */
async function run(seed: number, faults: Partial<SimFaults> = FAULTS) {
  const h = harness({ seed, faults, priceStepTicksMax: 20, partialFillProbability: 0.3, fillsPerMatchMax: 3, marketSlippageTicksMax: 5 })
  const script = Xoshiro128ss.fromSeed(1234)
  const log: string[] = []
  h.venue.onReport((report) => log.push(`${h.clock.nowMs()} report ${json(report)}`))
  const record = (what: string) => (outcome: VenueOutcome<unknown>) => log.push(`${h.clock.nowMs()} ${what} ${json(outcome)}`)
  for (let index = 0; index < 60; index++) {
    const id = `w${index}`
    const offset = BigInt(script.nextInt(-300, 300)) * d('0.01')
    const side = script.chance(0.5) ? 'buy' : 'sell'
    const request: PlaceRequest = script.chance(0.1) ? market({ clientOrderId: id, side }) : limit({ clientOrderId: id, side, price: d('50000') + offset, qty: d('0.01') * BigInt(script.nextInt(1, 20)) })
    void h.venue.place(request).then(record(`place ${id}`))
    if (script.chance(0.3)) {
      const target = `w${script.nextInt(0, index)}`
      void h.venue.cancel({ clientOrderId: `${target}-c${index}`, origClientOrderId: target, account: 'acct', symbol: 'BTC-USD' }).then(record(`cancel ${target}`))
    }
    await h.clock.advanceAsync(script.nextInt(1, 400))
  }
  await h.clock.advanceAsync(10_000)
  return { log, harness: h }
}

describe('sim venue determinism', () => {
  test('the same seed and the same calls give the identical answers and report sequence, to the millisecond', async () => {
    const first = await run(77)
    const second = await run(77)
    expect(first.log.length).toBeGreaterThan(100)
    // The workload really exercises the faults and the book, or the comparison would prove little.
    const { requests, reports, trades } = first.harness.venue.inspect()
    expect(requests.droppedRequests + requests.timedOutAfterApply + requests.cancelAcksLost).toBeGreaterThan(0)
    expect(requests.throttled).toBeGreaterThan(0)
    expect(Math.min(reports.dropped, reports.duplicated, reports.reordered)).toBeGreaterThan(0)
    expect(trades.length).toBeGreaterThan(10)
    expect(second.log).toEqual(first.log)
    expect(json(second.harness.venue.inspect())).toBe(json(first.harness.venue.inspect()))
  })

  test('a different seed gives a different run', async () => {
    const first = await run(77)
    const other = await run(78)
    expect(other.log).not.toEqual(first.log)
  })

  test('under faults with resends there is never more than one venue order per client order id', async () => {
    const { harness: h } = await run(5, { ...FAULTS, dropRequestProbability: 0.2, timeoutAfterApplyProbability: 0.2 })
    // Resend every order once more, as a gateway recovering from unknown outcomes would.
    for (let index = 0; index < 60; index++) {
      void h.venue.place(limit({ clientOrderId: `w${index}`, qty: d('0.01'), price: d('1') }))
    }
    await h.clock.advanceAsync(10_000)
    const ids = h.venue.inspect().orders.flatMap((order) => order.clientOrderIds)
    expect(new Set(ids).size).toBe(ids.length)
    expect(h.venue.inspect().requests.duplicatePlaces).toBeGreaterThan(0)
  })

  test('once faults are switched off, every client id converges to a definite answer that matches the ledger', async () => {
    const { harness: h } = await run(6)
    h.venue.setFaults({})
    const ledger = new Map(h.venue.inspect().orders.map((order) => [order.clientOrderId, order]))
    for (let index = 0; index < 60; index++) {
      const outcome = await within(h.clock, h.venue.orderStatus(`w${index}`), 50)
      expect(outcome.kind).toBe('ok')
      if (outcome.kind !== 'ok') continue
      const known = ledger.get(`w${index}`)
      if (known === undefined) expect(outcome.value).toBeNull()
      else expect(outcome.value).toMatchObject({ status: known.status, cumQty: known.cumQty, venueOrderId: known.venueOrderId })
    }
  })

  test('the reason codes of unknown and retryable answers come from the dictionary', async () => {
    const { log } = await run(8)
    const reasons = new Set(log.filter((line) => !line.includes(' report ')).map((line) => /"reason":"([a-z_]+)"/.exec(line)?.[1]).filter((r) => r !== undefined))
    const dictionary = new Set<string>(Object.values(SimReason))
    expect([...reasons].every((reason) => dictionary.has(reason))).toBe(true)
  })
})
