/** JSON parts' member order, remembered per key sequence (src/domain/events/member-order.ts). */

import { describe, expect, test } from 'bun:test'
import { MEMBER_ORDERS_CACHED_MAX, memberOrderOf } from '../../../src/domain/events/member-order.ts'

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

  test(`at most ${MEMBER_ORDERS_CACHED_MAX} sequences are remembered; past the bound orders are still right, only computed each time`, () => {
    for (let index = 0; index < MEMBER_ORDERS_CACHED_MAX + 10; index++) memberOrderOf([`bound-${index}`, 'b', 'a'])
    const fresh = ['fresh-z', 'fresh-a', 'm']
    const first = memberOrderOf(fresh)
    expect(first.sorted).toEqual(['fresh-a', 'fresh-z', 'm'])
    expect(memberOrderOf(fresh)).not.toBe(first)
    expect(memberOrderOf(fresh).sorted).toEqual(first.sorted)
  })
})
