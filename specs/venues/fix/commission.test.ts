/**
 * A fill's Commission (12) by its CommType (13), in CommCurrency (479) when stated (src/venues/fix/commission.ts).
 * Before, only CommType 3 (absolute) was booked: per-unit and percentage commissions were booked as a fee of 0 without
 * a word, and every fee was put in Currency (15), the price's currency, though the venue named another.
 */

import { describe, expect, test } from 'bun:test'
import type { ExecutionReport } from '../../../src/venues/adapter.ts'
import { FixMessage } from '../../../src/venues/fix/message.ts'
import { FixReason } from '../../../src/venues/fix/reasons.ts'
import { mapExecutionReport, type Mapped } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { ackedOrder, expectReportRefused, fields } from './venue-harness.ts'

const NOW_MS = 1_700_000_000_000

/** A fill of 0.5 at 100.25 (cash 50.125), with these fields added. */
function fill(over: Record<number, string>): Mapped<ExecutionReport> {
  const byTag: Record<number, string> = {
    [Tag.MsgType]: MsgType.ExecutionReport, [Tag.ExecID]: 'E1', [Tag.ExecType]: 'F', [Tag.OrdStatus]: '1', [Tag.ClOrdID]: 'eg-o1', [Tag.OrderID]: 'V1',
    [Tag.Account]: 'A1', [Tag.Symbol]: 'BTC-USD', [Tag.Side]: '1', [Tag.CumQty]: '0.5', [Tag.LastQty]: '0.5', [Tag.LastPx]: '100.25', ...over,
  }
  return mapExecutionReport('fixsim', new FixMessage('FIX.4.4', Object.entries(byTag).map(([tag, value]) => [Number(tag), value] as const)), undefined, NOW_MS)
}

function feeOf(mapped: Mapped<ExecutionReport>): { fee: bigint | undefined; feeAsset: string | undefined } {
  if (mapped.kind !== 'mapped') throw new Error(`not mapped: ${JSON.stringify(mapped)}`)
  return { fee: mapped.value.fee, feeAsset: mapped.value.feeAsset }
}

describe('FIX commission → fee', () => {
  test('CommType 3 (absolute), or none, is the fee as stated, in Currency when no CommCurrency is given', () => {
    expect(feeOf(fill({ [Tag.Commission]: '0.25', [Tag.CommType]: '3', [Tag.Currency]: 'USD' }))).toEqual({ fee: 25_000000n, feeAsset: 'USD' })
    expect(feeOf(fill({ [Tag.Commission]: '-0.5' }))).toEqual({ fee: -50_000000n, feeAsset: undefined })
  })

  test('CommCurrency (479), not Currency (15), is the fee asset when the venue states it', () => {
    expect(feeOf(fill({ [Tag.Commission]: '0.01', [Tag.CommType]: '3', [Tag.Currency]: 'USD', [Tag.CommCurrency]: 'BNB' }))).toEqual({ fee: 1_000000n, feeAsset: 'BNB' })
    expect(feeOf(fill({ [Tag.Commission]: '0.01', [Tag.CommType]: '1', [Tag.Currency]: 'USD', [Tag.CommCurrency]: 'BNB' }))).toEqual({ fee: 500000n, feeAsset: 'BNB' })
  })

  test('CommType 1 (per unit) is Commission × LastQty, rounded up to the unit', () => {
    expect(feeOf(fill({ [Tag.Commission]: '0.002', [Tag.CommType]: '1', [Tag.Currency]: 'USD' }))).toEqual({ fee: 100000n, feeAsset: 'USD' })
    // 0.00000003 × 0.5 = 0.000000015: a charge rounds up, against the account.
    expect(feeOf(fill({ [Tag.Commission]: '0.00000003', [Tag.CommType]: '1' })).fee).toBe(2n)
    // A rebate of 0.000000015 rounds towards zero, against the account too.
    expect(feeOf(fill({ [Tag.Commission]: '-0.00000003', [Tag.CommType]: '1' })).fee).toBe(-1n)
  })

  test('CommType 2 (percent) is Commission × LastQty × LastPx, Commission a fraction (.001 is 0.1%), rounded up once', () => {
    // 0.001 × 50.125 = 0.050125
    expect(feeOf(fill({ [Tag.Commission]: '.001', [Tag.CommType]: '2', [Tag.Currency]: 'USD' }))).toEqual({ fee: 5_012500n, feeAsset: 'USD' })
    // 0.00000001 × 50.125 = 0.00000050125 → 0.00000051; the rebate → -0.00000050.
    expect(feeOf(fill({ [Tag.Commission]: '0.00000001', [Tag.CommType]: '2' })).fee).toBe(51n)
    expect(feeOf(fill({ [Tag.Commission]: '-0.00000001', [Tag.CommType]: '2' })).fee).toBe(-50n)
    // Stated in the price's own currency it is computable.
    expect(feeOf(fill({ [Tag.Commission]: '.001', [Tag.CommType]: '2', [Tag.Currency]: 'USD', [Tag.CommCurrency]: 'USD' }))).toEqual({ fee: 5_012500n, feeAsset: 'USD' })
  })

  test('a percentage stated in a CommCurrency other than the price currency (or beside no Currency) is refused on tag 479', () => {
    for (const over of [{ [Tag.Currency]: 'USD', [Tag.CommCurrency]: 'BNB' }, { [Tag.CommCurrency]: 'BNB' }]) {
      const mapped = fill({ [Tag.Commission]: '.001', [Tag.CommType]: '2', ...over })
      expect(mapped).toMatchObject({ kind: 'invalid', tag: Tag.CommCurrency })
      expect(mapped.kind === 'invalid' && mapped.why).toStartWith(FixReason.commissionUncomputable)
    }
  })

  for (const commType of ['4', '5', '6', '7', 'X']) {
    test(`CommType ${commType} is no fee egress can compute: refused on tag 13 with ${FixReason.commissionUncomputable}, never booked as 0`, () => {
      const mapped = fill({ [Tag.Commission]: '0.5', [Tag.CommType]: commType })
      expect(mapped).toMatchObject({ kind: 'invalid', tag: Tag.CommType })
      expect(mapped.kind === 'invalid' && mapped.why).toStartWith(FixReason.commissionUncomputable)
    })
  }

  test('a Commission of 0 is no fee whatever its CommType', () => {
    expect(feeOf(fill({ [Tag.Commission]: '0', [Tag.CommType]: '6' })).fee).toBe(0n)
  })

  test('a computed fee beyond what a record holds is refused on tag 12', () => {
    const mapped = fill({ [Tag.Commission]: '99999999999999999999', [Tag.CommType]: '1', [Tag.CumQty]: '1000', [Tag.LastQty]: '1000', [Tag.LastPx]: '1' })
    expect(mapped).toMatchObject({ kind: 'invalid', tag: Tag.Commission })
  })
})

describe('FixVenue: a fill whose commission egress cannot compute', () => {
  test('is refused with a session Reject naming CommType, logged with its code, not reported, and its order read back', async () => {
    const order = await ackedOrder()
    order.acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'F1', 150: 'F', 39: '2', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '1.5', 32: '1.5', 31: '100.25', 12: '2', 13: '6' }))
    const refused = await expectReportRefused(order, Tag.CommType)
    expect(refused[0]?.message).toContain(FixReason.commissionUncomputable)
  })
})
