/**
 * Shared set-up for the sim venue specs: a SimClock, a venue with BTC-USD and ETH-USD at a constant price (unless a
 * test asks for a walk), and helpers to drive the clock until an answer arrives.
 */

import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { SimClock } from '../../../src/runtime/clock.ts'
import type { ExecutionReport, PlaceRequest, VenueOutcome } from '../../../src/venues/adapter.ts'
import { SimVenue, type SimInstrument, type SimVenueOptions } from '../../../src/venues/index.ts'

export const START_MS = 1_700_000_000_000

export const BTC: SimInstrument = {
  symbol: 'BTC-USD',
  baseAsset: 'BTC',
  quoteAsset: 'USD',
  tick: d('0.01'),
  lot: d('0.001'),
  initialPrice: d('50000'),
}

export const ETH: SimInstrument = {
  symbol: 'ETH-USD',
  baseAsset: 'ETH',
  quoteAsset: 'USD',
  tick: d('0.01'),
  lot: d('0.01'),
  initialPrice: d('3000'),
}

export interface Harness {
  clock: SimClock
  venue: SimVenue
  reports: ExecutionReport[]
}

export function harness(options: Partial<Omit<SimVenueOptions, 'clock'>> = {}): Harness {
  const clock = new SimClock({ startMs: START_MS })
  const venue = new SimVenue({
    clock,
    seed: 42,
    instruments: [BTC, ETH],
    priceStepTicksMax: 0,
    balances: { acct: { USD: d('1000000'), BTC: d('10') } },
    ...options,
  })
  const reports: ExecutionReport[] = []
  venue.onReport((report) => reports.push(report))
  return { clock, venue, reports }
}

/** Advances the clock by `ms` and returns the call's outcome, failing if it has not resolved by then. */
export async function within<T>(clock: SimClock, promise: Promise<VenueOutcome<T>>, ms = 5_000): Promise<VenueOutcome<T>> {
  let settled = false
  void promise.then(() => {
    settled = true
  })
  await clock.advanceAsync(ms)
  if (!settled) throw new Error(`call did not resolve within ${ms} simulated ms`)
  return promise
}

/** The ok value of an outcome, or a failing assertion naming what came back instead. */
export function okValue<T>(outcome: VenueOutcome<T>): T {
  if (outcome.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(outcome)}`)
  return outcome.value
}

let sequence = 0

export function limit(overrides: Partial<PlaceRequest> = {}): PlaceRequest {
  return {
    clientOrderId: `c${++sequence}`,
    account: 'acct',
    symbol: 'BTC-USD',
    side: 'buy',
    type: 'limit',
    qty: d('1'),
    price: d('50000'),
    tif: 'GTC',
    postOnly: false,
    reduceOnly: false,
    ...overrides,
  }
}

export function market(overrides: Partial<PlaceRequest> = {}): PlaceRequest {
  const { price: _price, ...rest } = limit({ type: 'market', tif: 'IOC', ...overrides })
  return rest
}

export function kinds(reports: readonly ExecutionReport[]): string[] {
  return reports.map((report) => report.kind)
}
