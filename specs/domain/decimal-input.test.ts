import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { isInputDecimalText, NON_NEGATIVE_INPUT_DECIMAL_PATTERN, parseDecimal } from '../../src/domain/decimal.ts'
import { amendBodySchema, placeBodySchema } from '../../src/domain/orders.ts'
import { positiveUnitsSchema, unitsSchema } from '../../src/domain/schema-kit.ts'

const LIMIT_BUY = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }
const RULE = 'expected a decimal string with at most 20 whole digits and 8 places, without a leading zero'

describe('decimal text from outside: no leading zero', () => {
  // qty "007.5" and price "00100" were taken as 7.5 and 100.
  test('a leading zero before another digit is refused; a lone zero before the point or as the amount is not', () => {
    for (const text of ['0', '0.5', '0.00000001', '100', '7.5', '12345678901234567890.12345678']) expect([text, isInputDecimalText(text)]).toEqual([text, true])
    for (const text of ['007.5', '00100', '00', '00.5', '-05', '-0.5', '-5', '01', '1e3', '+1', '.5', '1.', '1.123456789', '1'.repeat(21)]) {
      expect([text, isInputDecimalText(text)]).toEqual([text, false])
    }
    expect(['0', '0.5', '100'].every((text) => NON_NEGATIVE_INPUT_DECIMAL_PATTERN.test(text))).toBe(true)
    expect(['007.5', '00100', '-1', '-0.5'].some((text) => NON_NEGATIVE_INPUT_DECIMAL_PATTERN.test(text))).toBe(false)
  })

  test("an amend body's qty or price with a leading zero is refused like any malformed amount, naming the rule", () => {
    expect(v.safeParse(amendBodySchema, { price: '00100' }).issues?.map((issue) => [v.getDotPath(issue), issue.message])).toEqual([['price', RULE]])
    expect(v.parse(amendBodySchema, { qty: '7.5' }).qty).toBe(parseDecimal('7.5'))
  })

  test("the kernel's place body schema takes a leading zero: it re-decides what older leaders recorded (the transport refuses it)", () => {
    // A standby re-decides a leader's recorded body (ha/shadow.ts); a leader before the rule accepted "007.5".
    expect(v.parse(placeBodySchema, { ...LIMIT_BUY, qty: '007.5' }).qty).toBe(parseDecimal('7.5'))
    expect(v.parse(placeBodySchema, { ...LIMIT_BUY, price: '00100' }).price).toBe(parseDecimal('100'))
  })

  test('what egress reads back keeps reading such text: the log is read as it was written', () => {
    // Records, snapshots and the back office are read with parseDecimal and the record schemas, which take it.
    expect(parseDecimal('007.5')).toBe(parseDecimal('7.5'))
    expect(v.parse(unitsSchema, '00100')).toBe(parseDecimal('100'))
    expect(v.parse(positiveUnitsSchema, '007.5')).toBe(parseDecimal('7.5'))
  })
})
