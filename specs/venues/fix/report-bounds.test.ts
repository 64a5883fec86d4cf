/**
 * What the FIX adapter makes of hostile ExecutionReport fields. Every report it maps must be one the log can read
 * back (src/runtime/report-check.ts): before, a fill at LastPx 0 or below, or a TransactTime before 1970, was mapped
 * and recorded, and the gateway could not start again.
 */

import { describe, expect, test } from 'bun:test'
import { VENUE_REASON_CHARS_MAX } from '../../../src/domain/venue-report-schema.ts'
import { invalidReportOf } from '../../../src/runtime/report-check.ts'
import { FixMessage } from '../../../src/venues/fix/message.ts'
import { mapCancelReject, mapExecutionReport, mapStatusReport } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'

const NOW_MS = 1_700_000_000_000

function fill(over: Record<number, string> = {}): FixMessage {
  const fields: Record<number, string> = {
    [Tag.MsgType]: MsgType.ExecutionReport, [Tag.ExecID]: 'E1', [Tag.ExecType]: 'F', [Tag.OrdStatus]: '1', [Tag.ClOrdID]: 'eg-o1', [Tag.OrderID]: 'V1',
    [Tag.Account]: 'A1', [Tag.Symbol]: 'BTC-USD', [Tag.Side]: '1', [Tag.CumQty]: '0.5', [Tag.LastQty]: '0.5', [Tag.LastPx]: '100.25', ...over,
  }
  return new FixMessage('FIX.4.4', Object.entries(fields).map(([tag, value]) => [Number(tag), value] as const))
}

describe('FIX ExecutionReport fields egress cannot book', () => {
  for (const lastPx of ['0', '0.000', '-5', '-0.00000001']) {
    test(`LastPx ${lastPx} is refused on tag 31`, () => {
      expect(mapExecutionReport('fixsim', fill({ [Tag.LastPx]: lastPx }), undefined, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.LastPx })
    })
  }

  const malformed: Array<[string, string]> = [['exponent', '1e5'], ['22 digits', '1234567890123456789012'], ['9 places', '0.123456789'], ['unicode digits', '１２'], ['a NUL', '1\u0000'], ['empty', ''], ['Infinity', 'Infinity'], ['hex', '0x10']]
  for (const [name, value] of malformed) {
    test(`LastQty, LastPx and CumQty as ${name} are refused`, () => {
      for (const tag of [Tag.LastQty, Tag.LastPx, Tag.CumQty]) expect(mapExecutionReport('fixsim', fill({ [tag]: value }), undefined, NOW_MS)).toMatchObject({ kind: 'invalid', tag })
    })
  }

  test('a TransactTime before 1970 is passed over for SendingTime, then the clock', () => {
    const transact = mapExecutionReport('fixsim', fill({ [Tag.TransactTime]: '19691231-23:59:59.999', [Tag.SendingTime]: '20240102-03:04:05' }), undefined, NOW_MS)
    expect(transact).toMatchObject({ kind: 'mapped', value: { venueTimeMs: Date.UTC(2024, 0, 2, 3, 4, 5) } })
    const both = mapExecutionReport('fixsim', fill({ [Tag.TransactTime]: '19000101-00:00:00', [Tag.SendingTime]: '19000101-00:00:00' }), undefined, NOW_MS)
    expect(both).toMatchObject({ kind: 'mapped', value: { venueTimeMs: NOW_MS } })
    const reject = mapCancelReject('fixsim', fill({ [Tag.MsgType]: MsgType.OrderCancelReject, [Tag.TransactTime]: '19000101-00:00:00' }), { clientOrderId: 'eg-o1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 1n, ordType: '2', timeInForce: '1' }, NOW_MS)
    expect(reject).toMatchObject({ kind: 'mapped', value: { venueTimeMs: NOW_MS } })
  })

  test('a fill whose LastQty × LastPx is past the cash a record holds is refused on tag 31; one at it is mapped', () => {
    const over = mapExecutionReport('fixsim', fill({ [Tag.CumQty]: '1.00000001', [Tag.LastQty]: '1.00000001', [Tag.LastPx]: '99999999999999999999.99999999' }), undefined, NOW_MS)
    expect(over).toMatchObject({ kind: 'invalid', tag: Tag.LastPx })
    const at = mapExecutionReport('fixsim', fill({ [Tag.CumQty]: '1', [Tag.LastQty]: '1', [Tag.LastPx]: '99999999999999999999.99999999' }), undefined, NOW_MS)
    if (at.kind !== 'mapped') throw new Error(`not mapped: ${JSON.stringify(at)}`)
    expect(invalidReportOf(at.value)).toBeNull()
  })

  test('every report mapped from these hostile fields is one the log can read back', () => {
    const hostile: Array<Record<number, string>> = [
      {}, { [Tag.LastPx]: '0' }, { [Tag.LastPx]: '-1' }, { [Tag.TransactTime]: '19691231-23:59:59' }, { [Tag.SendingTime]: '18000101-00:00:00' },
      { [Tag.Commission]: '-0.5', [Tag.CommType]: '3' }, { [Tag.CumQty]: '99999999999999999999.99999999', [Tag.LastQty]: '99999999999999999999' },
      { [Tag.ExecType]: '4', [Tag.LastPx]: '0' }, { [Tag.ExecType]: '0', [Tag.CumQty]: '-1' },
    ]
    for (const over of hostile) {
      const mapped = mapExecutionReport('fixsim', fill(over), undefined, NOW_MS)
      if (mapped.kind === 'mapped') expect(invalidReportOf(mapped.value)?.message ?? null).toBeNull()
    }
  })

  test("a venue's Text longer than a reason may be is cut, not a reason to refuse the reject or cancel-reject", () => {
    const text = 'venue says no. '.repeat(400)
    for (const over of [{ [Tag.ExecType]: '8', [Tag.OrdStatus]: '8', [Tag.Text]: text }, { [Tag.ExecType]: '4', [Tag.OrdStatus]: '4', [Tag.Text]: text }]) {
      const mapped = mapExecutionReport('fixsim', fill({ ...over, [Tag.LastQty]: '0', [Tag.LastPx]: '0' }), undefined, NOW_MS)
      if (mapped.kind !== 'mapped') throw new Error(`not mapped: ${JSON.stringify(mapped)}`)
      expect(mapped.value.reason?.length).toBe(VENUE_REASON_CHARS_MAX)
      expect(mapped.value.reason?.endsWith('…')).toBe(true)
      expect(invalidReportOf(mapped.value)).toBeNull()
    }
    const facts = { clientOrderId: 'eg-o1', account: 'A1', symbol: 'BTC-USD', side: 'buy' as const, qty: 1n, ordType: '2', timeInForce: '1' }
    const reject = mapCancelReject('fixsim', fill({ [Tag.MsgType]: MsgType.OrderCancelReject, [Tag.Text]: text }), facts, NOW_MS)
    if (reject.kind !== 'mapped') throw new Error('not mapped')
    expect(reject.value.reason?.length).toBe(VENUE_REASON_CHARS_MAX)
    expect(invalidReportOf(reject.value)).toBeNull()
  })

  test('a status answer with Price 0 (a market order) or below states no price; OrderQty 0 or below is no quantity', () => {
    const facts = { clientOrderId: 'eg-o1', account: 'A1', symbol: 'BTC-USD', side: 'buy' as const, qty: 2_00000000n, ordType: '1', timeInForce: '3' }
    const status = (over: Record<number, string>) => mapStatusReport(fill({ [Tag.ExecType]: 'I', [Tag.OrdStatus]: '1', ...over }), facts, NOW_MS)
    const noPrice = status({ [Tag.Price]: '0', [Tag.OrderQty]: '2' })
    expect(noPrice.kind === 'mapped' && noPrice.value !== null && 'price' in noPrice.value).toBe(false)
    expect(status({ [Tag.Price]: '-1', [Tag.OrderQty]: '-2' })).toMatchObject({ kind: 'mapped', value: { qty: 2_00000000n } })
    expect(mapStatusReport(fill({ [Tag.ExecType]: 'I', [Tag.OrdStatus]: '1', [Tag.OrderQty]: '0' }), undefined, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.OrderQty })
  })
})
