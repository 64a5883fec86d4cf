/**
 * An order body's amounts (qty, price: a new order's, an amend's, an order list's legs) are canonical decimal strings
 * in their whole part: "0.1", never "00.1" or "012". "00.1" was accepted as 0.1, and since the idempotency key's body
 * digest is the body as sent, a retry with the same amount written "0.1" got 409 IDEMPOTENCY_CONFLICT for the same
 * order. The HTTP route refuses it (400 VALIDATION_FAILED, as it does any amount off the grammar) and so does the
 * kernel's syntax guard (SYNTAX_INVALID) for any other caller; the OpenAPI document carries the same pattern. Config
 * files read their amounts with their own grammar (src/config), which this does not change.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { amendBodySchema, placeBodySchema } from '../../src/domain/orders.ts'
import { syntaxGuard } from '../../src/kernel/intake/guard-syntax.ts'
import { schemaOf } from '../../src/http/openapi/shared.ts'
import * as v from 'valibot'
import { errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const LEADING_ZEROS = ['00.01', '0059000', '01', '-00.5', '000']
const CANONICAL_WHOLE = ['0.01', '59000', '0.10', '1.0', '10.5']

describe('the order decimal grammar', () => {
  test('a qty or price with leading zeros is refused by the place and amend schemas, and by the syntax guard as SYNTAX_INVALID', () => {
    for (const text of LEADING_ZEROS) {
      expect(v.safeParse(placeBodySchema, { ...LIMIT_BUY, qty: text }).success, text).toBe(false)
      expect(v.safeParse(placeBodySchema, { ...LIMIT_BUY, price: text }).success, text).toBe(false)
      expect(v.safeParse(amendBodySchema, { qty: text }).success, text).toBe(false)
      const guarded = syntaxGuard({ ...LIMIT_BUY, qty: text }, 'k-1')
      expect(guarded.pass ? null : guarded.reason, text).toBe('SYNTAX_INVALID')
    }
    for (const text of CANONICAL_WHOLE) {
      expect(v.safeParse(placeBodySchema, { ...LIMIT_BUY, qty: text, price: text }).success, text).toBe(true)
    }
  })

  test("the OpenAPI document's qty and price carry the same grammar as a pattern", () => {
    const properties = (schemaOf(placeBodySchema) as { properties: Record<string, { pattern?: string }> }).properties
    for (const field of ['qty', 'price']) {
      const pattern = new RegExp(properties[field]?.pattern ?? 'no pattern')
      expect(LEADING_ZEROS.filter((text) => pattern.test(text)), field).toEqual([])
      expect(CANONICAL_WHOLE.filter((text) => !pattern.test(text)), field).toEqual([])
    }
  })
})

describe('POST /v1/orders with a leading-zero amount', () => {
  let t: TestGateway
  let trader: string
  beforeAll(async () => {
    t = await startTestGateway()
    trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  })
  afterAll(async () => t.stop())

  test('is 400 VALIDATION_FAILED with nothing recorded, and the retry written canonically is the one order', async () => {
    const lsn = t.gateway.engine.wal.lastLsn
    const refused = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, qty: '00.01' }, { 'Idempotency-Key': 'lead-0' }))
    expect(refused.status).toBe(400)
    expect(errorCode(await json(refused))).toBe('VALIDATION_FAILED')
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
    const accepted = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'lead-0' }))
    expect(accepted.status).toBe(202)
    const orderId = (await json(accepted)).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const amend = await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '058000' }))
    expect(amend.status).toBe(400)
    expect(errorCode(await json(amend))).toBe('VALIDATION_FAILED')
  })
})
