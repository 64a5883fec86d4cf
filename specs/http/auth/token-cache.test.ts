import { expect, test } from 'bun:test'
import { TokenCache } from '../../../src/http/auth/index.ts'

const principal = { sub: 'a', roles: ['trader'] as const, accounts: ['demo-1'] }

test('the token cache never holds more than its bound and evicts the least recently used', () => {
  const cache = new TokenCache(2)
  cache.set('t1', principal, 1_000)
  cache.set('t2', principal, 1_000)
  expect(cache.get('t1', 0)).toBe(principal)
  cache.set('t3', principal, 1_000)
  expect(cache.size).toBe(2)
  expect(cache.get('t2', 0)).toBeUndefined()
  expect(cache.get('t1', 0)).toBe(principal)
  expect(cache.get('t3', 0)).toBe(principal)
})

test('a cached entry is dropped once its token expires', () => {
  const cache = new TokenCache(10)
  cache.set('t', principal, 1_000)
  expect(cache.get('t', 999)).toBe(principal)
  expect(cache.get('t', 1_000)).toBeUndefined()
  expect(cache.size).toBe(0)
})

test('a cache bounded at zero stores nothing', () => {
  const cache = new TokenCache(0)
  cache.set('t', principal, 1_000)
  expect(cache.size).toBe(0)
})
