import { describe, expect, test } from 'bun:test'
import { deepEquals } from 'bun'
import { decodeTagged, encodeTagged } from '../../src/backoffice/tagged-json.ts'

/** The decoder this one replaced: the same conversions as a JSON.parse reviver (bottom-up, every value visited). */
function decodeWithReviver(text: string): unknown {
  return JSON.parse(text, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner
    const record = inner as Record<string, unknown>
    const keys = Object.keys(record)
    if (keys.length !== 1) return inner
    if (keys[0] === '$bigint' && typeof record['$bigint'] === 'string' && /^-?\d+$/.test(record['$bigint'])) return BigInt(record['$bigint'])
    if (keys[0] === '$map' && Array.isArray(record['$map'])) return new Map(record['$map'] as [unknown, unknown][])
    return inner
  })
}

describe('tagged JSON', () => {
  test('Maps (nested, keyed by anything JSON holds, in insertion order) and bigints survive the round trip', () => {
    const value = {
      lastLsn: 42,
      books: new Map([['acct:a', new Map([['USD', 123456789012345678901234567n], ['BTC', -5n]])], ['fees', new Map()]]),
      orders: new Map([['o1', { qty: 10n, clientIds: ['c1', 'c2'], amend: null, held: 0n }]]),
      byNumber: new Map<unknown, unknown>([[1, 'one'], [null, [new Map([['deep', 1n]])]]]),
      list: [1n, { n: 2n }, [3n]],
      note: 'text',
    }
    const text = encodeTagged(value)
    const decoded = decodeTagged(text)
    expect(deepEquals(decoded, value, true)).toBe(true)
    expect([...(decoded as typeof value).books.keys()]).toEqual(['acct:a', 'fees'])
    expect(encodeTagged(decoded)).toBe(text)
  })

  test('the values of one Map may be written in a form of their own, each as it is reached; the rest as they are', () => {
    const orders = new Map([['o1', { qty: 10n, ids: ['c1'] }], ['o2', { qty: 20n, ids: ['c2', 'c3'] }]])
    const other = new Map([['o1', { qty: 30n, ids: ['c4'] }]])
    const formed: string[] = []
    const form = (order: { qty: bigint; ids: string[] }): unknown => {
      formed.push(order.ids[0] as string)
      return { qty: order.qty, first: order.ids[0], nested: new Map([['n', 1n]]) }
    }
    const text = encodeTagged({ orders, other }, { map: orders, form })
    expect(formed).toEqual(['c1', 'c2'])
    expect(decodeTagged(text)).toEqual({
      orders: new Map([['o1', { qty: 10n, first: 'c1', nested: new Map([['n', 1n]]) }], ['o2', { qty: 20n, first: 'c2', nested: new Map([['n', 1n]]) }]]),
      other,
    })
  })

  test('decodes exactly as the reviver did, malformed tags and `__proto__` members included', () => {
    const texts = [
      '{"$bigint":"-12"}',
      '{"$bigint":"1.5"}',
      '{"$bigint":12}',
      '{"$bigint":"7","other":1}',
      '{"$map":"not an array"}',
      '{"$map":[["k",{"$bigint":"3"}]],"x":1}',
      '[{"$map":[]},{"$map":[["a",{"$map":[["b",{"$bigint":"9"}]]}]]}]',
      '{"__proto__":{"$bigint":"5"},"a":{"__proto__":{"$map":[["k",1]]}}}',
      '{"$BIGINT":"1"}',
      '{"a":[null,true,"s",1.25,{"$bigint":"0"}]}',
    ]
    for (const text of texts) {
      const expected = decodeWithReviver(text)
      const decoded = decodeTagged(text)
      expect(deepEquals(decoded, expected, true)).toBe(true)
      expect(Object.getPrototypeOf(decoded)).toBe(Object.getPrototypeOf(expected))
    }
    const withProto = decodeTagged('{"__proto__":{"$bigint":"5"}}') as Record<string, unknown>
    expect(Object.getOwnPropertyDescriptor(withProto, '__proto__')?.value).toBe(5n)
    expect(Object.getPrototypeOf(withProto)).toBe(Object.prototype)
    // What a Map refuses to be built from is refused the same way.
    expect(() => decodeWithReviver('{"$map":[1]}')).toThrow(TypeError)
    expect(() => decodeTagged('{"$map":[1]}')).toThrow(TypeError)
    expect(() => decodeTagged('{"a":')).toThrow(SyntaxError)
  })
})
