import { describe, expect, test } from 'bun:test'
import { BucketTable, LoadShedder, TokenBucket } from '../../src/http/backpressure/index.ts'

const slow = { ratePerSec: 1, burst: 2 }

describe('load shedder buckets at their bound', () => {
  test('a client under its limit keeps it: a new key is shed, not given the room by forgetting that client', () => {
    const shedder = new LoadShedder({ account: slow, bot: slow, inFlightMax: 1_000, bucketsMax: 2, nowMs: () => 0 })
    expect(shedder.admit('a', null).ok).toBe(true)
    expect(shedder.admit('a', null).ok).toBe(true) // a has used its burst
    expect(shedder.admit('b', null).ok).toBe(true)
    // The table is full of buckets that are not full: forgetting one would hand its client a fresh burst.
    expect(shedder.admit('c', null)).toEqual({ ok: false, scope: 'account', retryAfterSec: 2 })
    expect(shedder.admit('a', null)).toMatchObject({ ok: false, scope: 'account' })
    expect(shedder.admit('d', 'bot-1')).toMatchObject({ ok: false, scope: 'account' })
  })

  test('the least recently used bucket is the one forgotten, once it is full; a bot key refused for room refunds the account', () => {
    let nowMs = 0
    const shedder = new LoadShedder({ account: slow, bot: { ratePerSec: 1, burst: 1 }, inFlightMax: 1_000, bucketsMax: 2, nowMs: () => nowMs })
    expect(shedder.admit('a', 'bot-1').ok).toBe(true) // created first
    expect(shedder.admit('b', 'bot-2').ok).toBe(true)
    nowMs = 10_000 // both full again
    expect(shedder.admit('a', 'bot-1').ok).toBe(true) // a (and bot-1) used last: b is now the least recently used
    expect(shedder.admit('c', 'bot-3').ok).toBe(true) // b and bot-2 forgotten, not a or bot-1
    expect(shedder.admit('a', 'bot-1')).toMatchObject({ ok: false, scope: 'bot' }) // bot-1 kept its state
    expect(shedder.admit('b', 'bot-4')).toMatchObject({ ok: false, scope: 'account' }) // no full bucket to forget for b
    const bots = new LoadShedder({ account: slow, bot: slow, inFlightMax: 1_000, bucketsMax: 1, nowMs: () => 0 })
    expect(bots.admit('e', 'bot-5').ok).toBe(true)
    expect(bots.admit('e', 'bot-6')).toEqual({ ok: false, scope: 'bot', retryAfterSec: 1 })
    expect(bots.admit('e', null).ok).toBe(true) // e's second token came back when bot-6 found no room
    const table = new BucketTable({ ratePerSec: 1, burst: 1 }, 1)
    const x = table.bucketOf('x', 0)
    if (!(x instanceof TokenBucket)) throw new Error('expected a bucket')
    expect(table.bucketOf('y', 0)).toBeInstanceOf(TokenBucket) // x is still full: forgetting it loses nothing
    expect(x.take(0).ok).toBe(true)
    expect(table.bucketOf('x', 0)).toBeInstanceOf(TokenBucket) // y was full and is forgotten for x's new bucket
    const xAgain = table.bucketOf('x', 0)
    if (!(xAgain instanceof TokenBucket)) throw new Error('expected a bucket')
    expect(xAgain.take(0).ok).toBe(true)
    expect(table.bucketOf('y', 0)).toEqual({ ok: false, retryAfterMs: 1000 })
  })

  test('a new key at the bound costs O(1), not a scan of every bucket', () => {
    const keys = 2_000
    const prototype = TokenBucket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
    const refill = prototype.refill!
    let refills = 0
    prototype.refill = function (this: unknown, ...args: unknown[]) {
      refills++
      return refill.apply(this, args)
    }
    try {
      const shedder = new LoadShedder({ account: slow, bot: slow, inFlightMax: 1_000_000, bucketsMax: keys, nowMs: () => 0 })
      for (let index = 0; index < keys; index++) shedder.admit(`held-${index}`, null)
      refills = 0
      for (let index = 0; index < keys; index++) shedder.admit(`new-${index}`, null)
      expect(refills).toBeLessThanOrEqual(2 * keys)
    } finally {
      prototype.refill = refill
    }
  })
})
