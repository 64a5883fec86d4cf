// A sim venue resumed on a config that dropped a symbol still holds that symbol's resting orders (memory.ts): they
// rest until canceled. An amend of one reaches an order whose instrument the venue no longer knows: it is refused
// (unknown_symbol, with its cancel_rejected report), as a place on that symbol is, where it threw inside the clock's
// callback and left the call pending forever. A cancel of it goes through. And any operation that throws inside the
// venue (a book bug) answers `unknown` (venue_error) rather than leaving its call pending.
import { describe, expect, spyOn, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import type { RestingOrder } from '../../../src/venues/sim/index.ts'
import { SimBook } from '../../../src/venues/sim/book.ts'
import { SimReason } from '../../../src/venues/sim/reasons.ts'
import { venueRejectCodeOf } from '../../../src/venues/reject-code-of.ts'
import { BTC, START_MS, harness, kinds, limit, okValue, within } from './fixture.ts'

const ETH_ORDER: RestingOrder = {
  venueOrderId: 'sim-o1',
  clientOrderIds: ['e1'],
  account: 'acct',
  symbol: 'ETH-USD',
  side: 'buy',
  type: 'limit',
  tif: 'GTC',
  postOnly: false,
  reduceOnly: false,
  qty: d('1'),
  price: d('2900'),
  cumQty: 0n,
  createdAtMs: START_MS - 1_000,
}

function resumedWithoutEth() {
  const h = harness({ instruments: [BTC], balances: {} })
  h.venue.resume({ session: 's1', orders: [ETH_ORDER], ended: [], trades: [], unreported: [], balances: new Map() })
  return h
}

describe('a resting order on a symbol the venue no longer trades', () => {
  test('an amend of it is refused unknown_symbol, with a cancel_rejected report, and the order rests as it was', async () => {
    const { clock, venue, reports } = resumedWithoutEth()
    const amend = { clientOrderId: 'e1.a1', origClientOrderId: 'e1', account: 'acct', symbol: 'ETH-USD', qty: d('2'), price: d('2800') }
    const outcome = await within(clock, venue.amend(amend), 1_000)
    expect(outcome).toEqual({ kind: 'rejected', reason: SimReason.unknownSymbol })
    expect(venueRejectCodeOf(SimReason.unknownSymbol)).toBe('INSTRUMENT_UNKNOWN')
    expect(reports.map((report) => [report.kind, report.clientOrderId, report.reason])).toEqual([['cancel_rejected', 'e1.a1', SimReason.unknownSymbol]])
    expect(okValue(await within(clock, venue.orderStatus('e1'), 1_000))).toMatchObject({ status: 'open', qty: d('1'), price: d('2900') })
  })

  test('a cancel of it goes through', async () => {
    const { clock, venue, reports } = resumedWithoutEth()
    okValue(await within(clock, venue.cancel({ clientOrderId: 'e1.c1', origClientOrderId: 'e1', account: 'acct', symbol: 'ETH-USD' }), 1_000))
    expect(kinds(reports)).toEqual(['canceled'])
  })
})

test('an operation that throws inside the venue answers unknown (venue_error), its reports dropped, and the venue goes on', async () => {
  const { clock, venue, reports } = harness()
  const amend = spyOn(SimBook.prototype, 'amend').mockImplementation(() => {
    throw new Error('a book bug')
  })
  try {
    const outcome = await within(clock, venue.amend({ clientOrderId: 'b1.a1', origClientOrderId: 'b1', account: 'acct', symbol: 'BTC-USD', qty: d('2') }), 1_000)
    expect(outcome).toEqual({ kind: 'unknown', reason: `${SimReason.venueError}: a book bug` })
  } finally {
    amend.mockRestore()
  }
  expect(reports).toEqual([])
  okValue(await within(clock, venue.place(limit({ price: d('40000') })), 1_000))
  expect(kinds(reports)).toEqual(['new'])
})
