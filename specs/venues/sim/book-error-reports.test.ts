// An operation on the sim book that throws midway (only a book bug can) has made changes before the throw: a fill
// booked is a trade the venue holds, its balances moved. The reports of those changes were dropped — the call's, all
// of them (venue.ts #arrive), a price step's, the failing order's — so the venue held a trade it never reported, and an
// order it took and filled in part that it never announced. Now they are emitted, and the failing fill changes nothing
// (its overfill check comes before it moves the order's filled quantity). The bug here: a match cut into pieces that
// add up past the order (SimLiquidity.pieces), the second piece an overfill.
import { afterEach, expect, spyOn, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { SimLiquidity } from '../../../src/venues/sim/matching.ts'
import { SimReason } from '../../../src/venues/sim/reasons.ts'
import { harness, kinds, limit, okValue, within } from './fixture.ts'

let restore = (): void => {}

afterEach(() => restore())

/** Until `restore`, every match is cut into the whole of it twice: the second fill overfills the order. */
function overfillingPieces(): void {
  const pieces = spyOn(SimLiquidity.prototype, 'pieces').mockImplementation((qty) => (qty > 0n ? [qty, qty] : []))
  restore = () => pieces.mockRestore()
}

test('a place that throws after a fill: answered unknown, and its new and fill reports are sent, the trade held', async () => {
  const { clock, venue, reports } = harness()
  overfillingPieces()
  const order = limit({ price: d('50000') })
  const outcome = await within(clock, venue.place(order), 1_000)
  expect(outcome).toEqual({ kind: 'unknown', reason: `${SimReason.venueError}: overfill of sim-o1: a matching bug` })
  expect(kinds(reports)).toEqual(['new', 'fill'])
  expect(reports[1]).toMatchObject({ clientOrderId: order.clientOrderId, lastQty: d('1'), cumQty: d('1') })
  expect(venue.inspect().trades.map((trade) => [trade.execId, trade.qty])).toEqual([[reports[1]!.execId, d('1')]])
  restore()
  expect(okValue(await within(clock, venue.orderStatus(order.clientOrderId), 1_000))).toMatchObject({ status: 'filled', cumQty: d('1') })
})

test('a price step that throws after a fill: the fill is reported, the error told once', async () => {
  const errors: string[] = []
  const { clock, venue, reports } = harness({ onBookError: (message) => void errors.push(message) })
  const order = limit({ price: d('49000') })
  okValue(await within(clock, venue.place(order), 1_000))
  overfillingPieces()
  venue.setReferencePrice('BTC-USD', d('49000'))
  await clock.advanceAsync(1_000)
  expect(errors).toEqual(['price step: overfill of sim-o1: a matching bug'])
  expect(kinds(reports)).toEqual(['new', 'fill'])
  expect(reports[1]).toMatchObject({ lastQty: d('1'), cumQty: d('1'), liquidity: 'maker' })
  expect(venue.inspect().trades.map((trade) => trade.execId)).toEqual([reports[1]!.execId])
})
