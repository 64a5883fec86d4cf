import { describe, expect, test } from 'bun:test'
import { arrayOf, big, mapOf, nullable, num, record, smallSetOf, str } from '../../../src/runtime/snapshot/codec-kit.ts'

interface Leg {
  id: string
  qty: bigint
  tags: string[]
  fills: Map<string, bigint>
  note: string | null
}

const leg = record<Leg>('Leg', { id: str, qty: big, tags: arrayOf(str), fills: mapOf(big), note: nullable(str) })
const book = mapOf(arrayOf(leg))
const goodLeg = ['L1', '5', ['a', 'b'], [['x1', '2'], ['x2', '3']], null]

describe('codec kit', () => {
  test('nested records, arrays and maps decode to the values encoded, in order', () => {
    const value = new Map([['acct', [{ id: 'L1', qty: 5n, tags: ['a', 'b'], fills: new Map([['x1', 2n], ['x2', 3n]]), note: null }]]])
    const json = book.encode(value)
    expect(json).toEqual([['acct', [goodLeg]]])
    expect(book.decode(JSON.parse(JSON.stringify(json)), 'book')).toEqual(value)
  })

  test('a failure deep inside names the exact path of the first problem', () => {
    const badQty = [['acct', [goodLeg, ['L2', '1.5', [], [], null]]]]
    expect(() => book.decode(badQty, 'book')).toThrow(/^book\["acct"\]\[1\]\.qty: expected an integer string, got "1\.5"$/)
    const badTag = [['acct', [['L1', '5', ['a', 7], [], null]]]]
    expect(() => book.decode(badTag, 'book')).toThrow(/^book\["acct"\]\[0\]\.tags\[1\]: expected a string, got 7$/)
    const badFill = [['acct', [['L1', '5', [], [['x1', '2'], ['x2', 'two']], null]]]]
    expect(() => book.decode(badFill, 'book')).toThrow(/^book\["acct"\]\[0\]\.fills\["x2"\]: expected an integer string/)
    expect(() => book.decode([['acct', [['L1', '5', [], []]]]], 'book')).toThrow(/^book\["acct"\]\[0\]: expected Leg as an array of 5 fields, got array\(4\)$/)
  })

  test('a map with a duplicate key and a set with a duplicate member are refused, naming the key', () => {
    expect(() => mapOf(num).decode([['a', 1], ['b', 2], ['a', 3]], 'counts')).toThrow(/^counts: duplicate key "a"$/)
    expect(() => mapOf(num).decode([['a', 1], 'b'], 'counts')).toThrow(/^counts: expected a \[key, value\] pair/)
    expect(() => smallSetOf(str).decode(['x', 'y', 'x'], 'ids')).toThrow(/^ids: a set holds a duplicate$/)
  })
})
