import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import type { ExecutionReport, VenueOutcome } from '../../../src/venues/adapter.ts'
import { SimReason } from '../../../src/venues/index.ts'
import { harness, kinds, limit, okValue, START_MS, within } from './fixture.ts'

const TIMEOUT_MS = 1_000

/** Resolves the call and returns its outcome with the simulated time it took. */
async function timed<T>(clock: ReturnType<typeof harness>['clock'], promise: Promise<VenueOutcome<T>>) {
  const startMs = clock.nowMs()
  let tookMs = -1
  void promise.then(() => {
    tookMs = clock.nowMs() - startMs
  })
  const outcome = await within(clock, promise)
  return { outcome, tookMs }
}

describe('sim venue request faults', () => {
  test('a dropped request answers unknown after the timeout and the venue never saw it', async () => {
    const { clock, venue, reports } = harness({ requestTimeoutMs: TIMEOUT_MS, faults: { dropRequestProbability: 1 } })
    const { outcome, tookMs } = await timed(clock, venue.place(limit({ clientOrderId: 'lost' })))
    expect(outcome).toEqual({ kind: 'unknown', reason: SimReason.timeout })
    expect(tookMs).toBe(TIMEOUT_MS)
    venue.setFaults({})
    expect(okValue(await within(clock, venue.orderStatus('lost')))).toBeNull()
    expect(reports).toEqual([])
    expect(venue.inspect().orders).toEqual([])
    expect(venue.inspect().requests.droppedRequests).toBe(1)
  })

  test('a timeout after the order reached the book answers unknown, yet the order exists and reports flow', async () => {
    const { clock, venue, reports } = harness({ requestTimeoutMs: TIMEOUT_MS, faults: { timeoutAfterApplyProbability: 1 } })
    const { outcome, tookMs } = await timed(clock, venue.place(limit({ clientOrderId: 'there' })))
    expect(outcome).toEqual({ kind: 'unknown', reason: SimReason.timeout })
    expect(tookMs).toBe(TIMEOUT_MS)
    expect(kinds(reports)).toEqual(['new', 'fill'])
    venue.setFaults({})
    expect(okValue(await within(clock, venue.orderStatus('there')))).toMatchObject({ status: 'filled', cumQty: d('1') })
    // A resend of the same client id is recognised, not a second order.
    const resend = await within(clock, venue.place(limit({ clientOrderId: 'there' })))
    expect(resend).toEqual({ kind: 'rejected', reason: SimReason.duplicateClientOrderId })
    expect(venue.inspect().orders).toHaveLength(1)
  })

  test('a lost cancel ack answers unknown although the cancel was applied', async () => {
    const { clock, venue, reports } = harness({ faults: { cancelAckLostProbability: 1 } })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'k', price: d('49000') }))))
    const cancel = { clientOrderId: 'kx', origClientOrderId: 'k', account: 'acct', symbol: 'BTC-USD' }
    expect(await within(clock, venue.cancel(cancel))).toEqual({ kind: 'unknown', reason: SimReason.timeout })
    expect(okValue(await within(clock, venue.orderStatus('k')))?.status).toBe('canceled')
    expect(kinds(reports)).toEqual(['new', 'canceled'])
    expect(venue.inspect().requests.cancelAcksLost).toBe(1)
  })

  test('a 429 burst answers retryable with Retry-After and the venue does nothing', async () => {
    const { clock, venue, reports } = harness({ faults: { throttleBurstProbability: 1, throttleBurstMs: 2_000 } })
    const first = await within(clock, venue.place(limit({ clientOrderId: 'slow' })), 500)
    expect(first).toMatchObject({ kind: 'retryable', reason: SimReason.rateLimited, retryAfterMs: 2_000 })
    const second = await within(clock, venue.orderStatus('slow'), 100)
    expect(second).toMatchObject({ kind: 'retryable', retryAfterMs: 1_500 })
    expect(venue.inspect().orders).toEqual([])
    expect(reports).toEqual([])
    venue.setFaults({})
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'slow' }))))
    expect(venue.inspect().requests.throttled).toBe(2)
  })

  test('a burst throttles every call until it ends; setFaults({}) ends it at once', async () => {
    const { clock, venue } = harness({ faults: { throttleBurstProbability: 1, throttleBurstMs: 1_000 } })
    expect(await within(clock, venue.balances('acct'), 10)).toMatchObject({ kind: 'retryable', retryAfterMs: 1_000 })
    expect(await within(clock, venue.balances('acct'), 10)).toMatchObject({ kind: 'retryable', retryAfterMs: 990 })
    venue.setFaults({})
    expect((await within(clock, venue.balances('acct'), 10)).kind).toBe('ok')
  })

  test('an outage answering retryable says when it ends and creates nothing', async () => {
    const outage = { startMs: START_MS + 1_000, endMs: START_MS + 4_000, calls: 'retryable' as const, reports: 'drop' as const }
    const { clock, venue } = harness({ faults: { outages: [outage] } })
    clock.advance(1_500)
    const outcome = await within(clock, venue.place(limit({ clientOrderId: 'o' })), 100)
    expect(outcome).toEqual({ kind: 'retryable', reason: SimReason.venueUnavailable, retryAfterMs: 2_500 })
    expect(venue.inspect().orders).toEqual([])
    clock.advance(3_000)
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'o' }))))
  })

  test('an outage answering unknown times out every call and creates nothing', async () => {
    const outage = { startMs: START_MS, endMs: START_MS + 10_000, calls: 'unknown' as const, reports: 'drop' as const }
    const { clock, venue } = harness({ requestTimeoutMs: TIMEOUT_MS, faults: { outages: [outage] } })
    const { outcome, tookMs } = await timed(clock, venue.place(limit({ clientOrderId: 'dark' })))
    expect(outcome).toEqual({ kind: 'unknown', reason: SimReason.timeout })
    expect(tookMs).toBe(TIMEOUT_MS)
    expect((await within(clock, venue.orderStatus('dark'))).kind).toBe('unknown')
    expect(venue.inspect().orders).toEqual([])
  })

  test('during an outage resting orders still trade; their reports are lost (drop) or delivered at the end (hold)', async () => {
    for (const mode of ['drop', 'hold'] as const) {
      const outage = { startMs: START_MS + 1_000, endMs: START_MS + 2_000, calls: 'unknown' as const, reports: mode }
      const { clock, venue, reports } = harness({ faults: { outages: [outage] } })
      const arrivals: number[] = []
      venue.onReport(() => arrivals.push(clock.nowMs() - START_MS))
      okValue(await within(clock, venue.place(limit({ clientOrderId: 'r', price: d('49000') })), 500))
      clock.advance(1_000)
      venue.setReferencePrice('BTC-USD', d('48000'))
      clock.advance(100)
      // A held report is still on its way; a dropped one is not.
      expect(venue.inspect().reportsInFlight).toBe(mode === 'hold' ? 1 : 0)
      clock.advance(1_900)
      expect(venue.inspect().reportsInFlight).toBe(0)
      expect(venue.inspect().trades).toHaveLength(1)
      if (mode === 'drop') {
        expect(kinds(reports)).toEqual(['new'])
        expect(venue.inspect().reports.dropped).toBe(1)
      } else {
        expect(kinds(reports)).toEqual(['new', 'fill'])
        expect(arrivals.at(-1)).toBe(2_000)
      }
    }
  })

  test('a hold outage delivers its held reports in emission order, before a report due at its very end', async () => {
    // A report due exactly at the end was scheduled when emitted, before earlier ones arrived and were held to the end:
    // it overtook them (seed 4 here, among these). Fills emitted every ms up to 50 ms before the end, latency 0..40 ms.
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const outage = { startMs: START_MS + 10_000, endMs: START_MS + 10_100, calls: 'unknown' as const, reports: 'hold' as const }
      const { clock, venue, reports } = harness({ seed, latencyMsMin: 0, latencyMsMax: 40, requestTimeoutMs: 100, faults: { outages: [outage] } })
      for (let index = 0; index < 60; index++) {
        okValue(await within(clock, venue.place(limit({ clientOrderId: `h${index}`, price: d('49000') - BigInt(index) * d('1') })), 100))
      }
      await clock.advanceAsync(START_MS + 10_050 - clock.nowMs())
      for (let index = 0; index < 60; index++) {
        venue.setReferencePrice('BTC-USD', d('49000') - BigInt(index) * d('1'))
        await clock.advanceAsync(1)
      }
      await clock.advanceAsync(500)
      const sequence = reports.map((report) => Number(report.execId.slice('sim-x'.length)))
      expect(sequence).toHaveLength(120)
      expect({ seed, sequence }).toEqual({ seed, sequence: [...sequence].sort((a, b) => a - b) })
      expect(venue.inspect().reportsInFlight).toBe(0)
    }
  })
})

describe('sim venue report faults', () => {
  async function placeMany(faults: Parameters<typeof harness>[0], count = 30) {
    const h = harness({ seed: 9, fillsPerMatchMax: 3, ...faults })
    for (let index = 0; index < count; index++) {
      okValue(await within(h.clock, h.venue.place(limit({ qty: d('1') })), 100))
    }
    await h.clock.advanceAsync(1_000)
    return h
  }

  test('dropped reports never arrive, while the trades they describe exist', async () => {
    const { venue, reports } = await placeMany({ faults: { dropReportProbability: 1 } })
    expect(reports).toEqual([])
    expect(venue.inspect().trades.length).toBeGreaterThanOrEqual(30)
    expect(venue.inspect().reports.dropped).toBe(venue.inspect().reports.emitted)
  })

  test('a duplicated report arrives twice with the same execId', async () => {
    const { reports } = await placeMany({ faults: { duplicateReportProbability: 1 } }, 3)
    const byExecId = Map.groupBy(reports, (report: ExecutionReport) => report.execId)
    expect([...byExecId.values()].every((copies) => copies.length === 2)).toBe(true)
    for (const copies of byExecId.values()) expect(copies[0]).toEqual(copies[1] as ExecutionReport)
  })

  test('reordered reports overtake each other but all arrive', async () => {
    const { venue, reports } = await placeMany({ faults: { reorderReportProbability: 0.5, reorderDelayMsMax: 50 } })
    const sequence = reports.map((report) => Number(report.execId.slice('sim-x'.length)))
    expect(sequence).not.toEqual([...sequence].sort((a, b) => a - b))
    expect(sequence.length).toBe(venue.inspect().reports.emitted)
    expect(new Set(sequence).size).toBe(sequence.length)
  })

  test('without report faults reports arrive in emission order', async () => {
    const { reports } = await placeMany({ latencyMsMin: 0, latencyMsMax: 40, requestTimeoutMs: 100 })
    const sequence = reports.map((report) => Number(report.execId.slice('sim-x'.length)))
    expect(sequence).toEqual([...sequence].sort((a, b) => a - b))
  })
})
