/**
 * A JSON body that names one member twice in an object is 400 MALFORMED_REQUEST, and nothing is logged. JSON.parse kept
 * the last value: `{"account":"demo-2", …, "account":"demo-1"}` was placed for demo-1 and `{… "qty":"0.01",
 * "qty":"0.02"}` for 0.02, while a parser that keeps the first (a proxy's, an audit tap's) reads another order from
 * the same bytes, and the decision record explains only the one egress picked. src/http/duplicate-members.ts finds
 * the repetition; this also holds the scanner to what JSON.parse reads (escaped names, nesting, strings holding
 * quotes, braces and commas).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { firstDuplicateMember, flatMemberCount } from '../../src/http/duplicate-members.ts'
import { auth, errorCode, json, LIMIT_BUY, startTestGateway, type TestGateway } from './fixture.ts'

describe('POST /v1/orders with a repeated member name', () => {
  let t: TestGateway
  let trader: string
  beforeAll(async () => {
    t = await startTestGateway()
    trader = await t.token({ accounts: ['demo-1', 'demo-2'] })
  })
  afterAll(async () => t.stop())

  const base = JSON.stringify(LIMIT_BUY)
  const bodies: Record<string, string> = {
    qty: base.replace('}', ',"qty":"0.02"}'),
    account: base.replace('{', '{"account":"demo-2",'),
    side: base.replace('}', ',"side":"sell"}'),
    'escaped name': base.replace('}', ',"q\\u0074y":"0.02"}'),
  }
  for (const [name, body] of Object.entries(bodies)) {
    test(`${name}: 400 MALFORMED_REQUEST naming the member, and nothing is logged`, async () => {
      const lsn = t.gateway.engine.wal.lastLsn
      const response = await t.request('/v1/orders', { method: 'POST', headers: auth(trader, { 'Content-Type': 'application/json', 'Idempotency-Key': `dup-${name.replace(/ /g, '-')}` }), body })
      expect(response.status).toBe(400)
      const answer = await json(response)
      expect(errorCode(answer)).toBe('MALFORMED_REQUEST')
      expect((answer.error as { details: { member: string } }).details.member).toBe(name === 'escaped name' ? 'qty' : name)
      await t.gateway.engine.settled()
      expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
      expect(t.gateway.engine.state.orders.size).toBe(0)
    })
  }

  test('a value that reads like a member name is no repetition: the order is placed', async () => {
    const body = JSON.stringify({ ...LIMIT_BUY, client_order_id: 'qty' })
    const response = await t.request('/v1/orders', { method: 'POST', headers: auth(trader, { 'Content-Type': 'application/json' }), body })
    expect(response.status).toBe(202)
  })
})

describe('firstDuplicateMember', () => {
  const cases: [string, string | null][] = [
    ['{"a":1,"b":2}', null],
    ['{"a":1,"a":2}', 'a'],
    ['{"a":{"a":1},"b":[{"a":1},{"a":2}]}', null],
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['[{"a":1},{"a":1,"c":{"d":[1,{"a":1}]},"a":3}]', 'a'],
    ['{"a":"x\\",\\"a\\":1","b":"{\\"b\\":1}"}', null],
    ['{"a,b":1,"c":"a,b","a,b":2}', 'a,b'],
    ['{"\\u0061":1,"a":2}', 'a'],
    ['{"\\\\":1,"\\\\":2}', '\\'],
    ['{"":1,"":2}', ''],
    ['{"__proto__":1,"__proto__":2}', '__proto__'],
    [' { "a" : [ ] , "b" : { } , "a" : null } ', 'a'],
    ['"{\\"a\\":1,\\"a\\":2}"', null],
    ['[1,"a",{"x":[],"y":{}},{"x":1}]', null],
    // Past 16 names an object keeps them in a Set: a repetition is still found, either side of the switch.
    [`{${Array.from({ length: 40 }, (_, index) => `"m${index}":${index}`).join(',')}}`, null],
    [`{${Array.from({ length: 40 }, (_, index) => `"m${index}":${index}`).join(',')},"m3":0}`, 'm3'],
    [`{${Array.from({ length: 16 }, (_, index) => `"m${index}":${index}`).join(',')},"m15":0}`, 'm15'],
  ]
  for (const [text, expected] of cases) {
    test(`${text} → ${String(expected)}`, () => {
      JSON.parse(text) // the scanner is given valid JSON only
      expect(firstDuplicateMember(text)).toBe(expected)
    })
  }
})

/**
 * body.ts tells most bodies apart without firstDuplicateMember: a flat object whose member count (flatMemberCount) is
 * the count of keys JSON.parse gave it repeats no name. Held to firstDuplicateMember on the same texts.
 */
describe('flatMemberCount', () => {
  const cases: [string, number][] = [
    ['{}', 0],
    [' { "a" : 1 } ', 1],
    ['{"a":1,"b":"x","c":null,"d":true}', 4],
    ['{"a":1,"a":2}', 2],
    ['{"\\u0061":1,"a":2}', 2],
    ['{"a":"x\\",\\"a\\":1","b":"{\\"b\\":[1]}"}', 2],
    ['{"a,b":1,"c":"a,b"}', 2],
    ['{"a":{"b":1}}', -1],
    ['{"a":[1,2]}', -1],
    ['{"a":[],"a":2}', -1],
  ]
  for (const [text, expected] of cases) {
    test(`${text} → ${expected}`, () => {
      const parsed = JSON.parse(text) as Record<string, unknown>
      expect(flatMemberCount(text)).toBe(expected)
      // Equal counts exactly when firstDuplicateMember finds nothing, for a flat object.
      if (expected >= 0) expect(expected === Object.keys(parsed).length).toBe(firstDuplicateMember(text) === null)
    })
  }
})
