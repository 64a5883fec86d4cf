import { describe, expect, test } from 'bun:test'
import { matchEvents } from './render.ts'

describe('golden event-sequence matcher', () => {
  test('a plain list matches exactly that sequence and nothing longer or shorter', () => {
    expect(matchEvents(['a', 'b'], ['a', 'b'])).toBe(true)
    expect(matchEvents(['a', 'b'], ['a', 'b', 'c'])).toBe(false)
    expect(matchEvents(['a', 'b'], ['a'])).toBe(false)
  })

  test('a repeat group matches one or more whole copies of itself', () => {
    const pattern = ['x', { repeat: ['s', 'r'] }, 's', 'ok']
    expect(matchEvents(pattern, ['x', 's', 'r', 's', 'ok'])).toBe(true)
    expect(matchEvents(pattern, ['x', 's', 'r', 's', 'r', 's', 'r', 's', 'ok'])).toBe(true)
    expect(matchEvents(pattern, ['x', 's', 'ok'])).toBe(false)
    expect(matchEvents(pattern, ['x', 's', 'r', 'r', 's', 'ok'])).toBe(false)
  })

  test('min 0 lets a repeat group be absent', () => {
    expect(matchEvents(['x', { repeat: ['d'], min: 0 }, 'y'], ['x', 'y'])).toBe(true)
    expect(matchEvents(['x', { repeat: ['d'], min: 0 }, 'y'], ['x', 'd', 'd', 'y'])).toBe(true)
  })
})
