/** JSON parts' member order, remembered per key sequence (src/domain/events/member-order.ts). */

import { describe, expect, test } from 'bun:test'
import { MEMBER_ORDERS_CACHED_MAX, memberOrderOf, memberOrderOfObject } from '../../../src/domain/events/member-order.ts'

describe('member order of a JSON part', () => {
  test('keys in code-unit order with their "key": heads; the same sequence again gives the remembered order', () => {
    const keys = ['zeta', 'Alpha', 'é', 'a"b', 'alpha', '😀', 'ﬀ']
    const order = memberOrderOf(keys)
    expect(order.sorted).toEqual([...keys].sort())
    expect(order.heads.map((head) => new TextDecoder().decode(head))).toEqual([...keys].sort().map((key) => `${JSON.stringify(key)}:`))
    expect(order.plain).toBe(true)
    expect(memberOrderOf([...keys])).toBe(order)
    // Same keys in another order: another sequence, the same canonical order.
    expect(memberOrderOf([...keys].reverse()).sorted).toEqual(order.sorted)
  })

  test('an index-like key or __proto__ makes the object not plain (canonicalJson writes it)', () => {
    expect(memberOrderOf(['b', '10', 'a']).plain).toBe(false)
    expect(memberOrderOf(['b', '01']).plain).toBe(false)
    expect(memberOrderOf(['__proto__', 'a']).plain).toBe(false)
    expect(memberOrderOf(['_proto', 'a']).plain).toBe(true)
  })

  test("an object's order is the order of its Object.keys, remembered or not, whatever its prototype; none when empty", () => {
    const remembered = memberOrderOf(['qty', 'price', 'side'])
    expect(memberOrderOfObject({ qty: 1, price: 2, side: 'buy' })).toBe(remembered)
    // A sequence that starts like a remembered one, longer or shorter, or in another order, is not taken for it.
    expect(memberOrderOfObject({ qty: 1, price: 2, side: 'buy', tif: 'IOC' })?.sorted).toEqual(['price', 'qty', 'side', 'tif'])
    expect(memberOrderOfObject({ qty: 1, price: 2 })?.sorted).toEqual(['price', 'qty'])
    expect(memberOrderOfObject({ qty: 1, side: 'buy', price: 2 })?.keys).toEqual(['qty', 'side', 'price'])
    const bare = Object.assign(Object.create(null) as object, { side: 'sell', qty: 3 })
    expect(memberOrderOfObject(bare)?.keys).toEqual(['side', 'qty'])
    // Not a plain object: its own keys only (Object.keys), never what its prototype lists.
    const inherited = Object.assign(Object.create({ extra: 1 }) as object, { qty: 1, price: 2, side: 'buy' })
    expect(memberOrderOfObject(inherited)).toBe(remembered)
    expect(memberOrderOfObject(Object.create({ extra: 1 }) as object)).toBeNull()
    expect(memberOrderOfObject({})).toBeNull()
    expect(memberOrderOfObject({ b: 1, 10: 2, a: 3 })?.keys).toEqual(['10', 'b', 'a'])
  })

  test(`at most ${MEMBER_ORDERS_CACHED_MAX} sequences are remembered; past the bound orders are still right, only computed each time`, () => {
    for (let index = 0; index < MEMBER_ORDERS_CACHED_MAX + 10; index++) memberOrderOf([`bound-${index}`, 'b', 'a'])
    const fresh = ['fresh-z', 'fresh-a', 'm']
    const first = memberOrderOf(fresh)
    expect(first.sorted).toEqual(['fresh-a', 'fresh-z', 'm'])
    expect(memberOrderOf(fresh)).not.toBe(first)
    expect(memberOrderOf(fresh).sorted).toEqual(first.sorted)
  })
})
