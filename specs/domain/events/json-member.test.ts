/** Cutting one top-level member out of a JSON object's bytes: the rest parses to the same object minus that member. */

import { describe, expect, test } from 'bun:test'
import { memberKey, topLevelMemberCut } from '../../../src/domain/events/json-member.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function cutText(text: string, name: string): string | null {
  const bytes = encoder.encode(text)
  const cut = topLevelMemberCut(bytes, memberKey(name))
  if (cut === null) return null
  return decoder.decode(bytes.subarray(0, cut.from)) + decoder.decode(bytes.subarray(cut.to))
}

function withoutMember(value: Record<string, unknown>, name: string): Record<string, unknown> {
  const copy = { ...value }
  delete copy[name]
  return copy
}

describe('topLevelMemberCut', () => {
  const cases: Record<string, Record<string, unknown>> = {
    first: { decision: { a: 1 }, b: 'x' },
    middle: { a: 1, decision: { guards: [{ inputs: { x: '1' } }] }, z: null },
    last: { a: 1, decision: {} },
    only: { decision: { a: [1, 2, { b: 3 }] } },
    'key text inside strings before it': { a: '"decision":{', b: '\\', c: '\\"decision\\":', decision: { d: '}' }, e: ']' },
    'a nested decision key first': { a: { decision: { deep: true } }, decision: { top: true }, b: [{ decision: 1 }] },
    'braces and quotes in its strings': { decision: { s: '{[}]"\\"\\\\', t: 'x\\' }, after: 'kept' },
    'multi-byte text on both sides': { before: 'é漢😀', decision: { note: 'ü\u2028' }, after: 'ß' },
  }
  for (const [name, value] of Object.entries(cases)) {
    test(`cuts the member: ${name}`, () => {
      const text = JSON.stringify(value)
      const cut = cutText(text, 'decision')
      expect(cut).not.toBeNull()
      expect(JSON.parse(cut as string)).toEqual(withoutMember(value, 'decision'))
    })
  }

  test('answers null when there is nothing it may cut', () => {
    expect(cutText(JSON.stringify({ a: 1 }), 'decision')).toBeNull() // absent
    expect(cutText(JSON.stringify({ a: { decision: { x: 1 } } }), 'decision')).toBeNull() // only nested
    expect(cutText(JSON.stringify({ a: 'x"decision":{}' }), 'decision')).toBeNull() // only inside a string
    expect(cutText(JSON.stringify({ decision: 'text' }), 'decision')).toBeNull() // not an object
    expect(cutText(JSON.stringify({ decision: null }), 'decision')).toBeNull()
    expect(cutText('{"decision":{"a":"unterminated}', 'decision')).toBeNull()
    expect(cutText('{"decision":{"a":{}', 'decision')).toBeNull()
  })

  test('random objects: the cut always parses to the object minus the member', () => {
    let seed = 42
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed / 2_147_483_648
    }
    const alphabet = ['a', '"', '\\', '{', '}', '[', ']', ',', ':', 'é', '😀', 'decision', '"decision":']
    const randomString = (): string => Array.from({ length: Math.floor(next() * 6) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('')
    const randomValue = (depth: number): unknown => {
      const pick = next()
      if (depth > 2 || pick < 0.4) return pick < 0.2 ? randomString() : Math.floor(next() * 100)
      if (pick < 0.7) return Array.from({ length: Math.floor(next() * 3) }, () => randomValue(depth + 1))
      return randomObject(depth + 1)
    }
    const randomObject = (depth: number): Record<string, unknown> => {
      const object: Record<string, unknown> = {}
      for (let index = Math.floor(next() * 4); index > 0; index--) object[next() < 0.2 ? 'decision' : randomString()] = randomValue(depth)
      return object
    }
    for (let round = 0; round < 500; round++) {
      const value = randomObject(0)
      const hasObjectMember = typeof value.decision === 'object' && value.decision !== null && !Array.isArray(value.decision)
      const text = JSON.stringify(value)
      const cut = cutText(text, 'decision')
      if (hasObjectMember) expect(JSON.parse(cut as string)).toEqual(withoutMember(value, 'decision'))
      else expect(cut).toBeNull()
    }
  })
})
