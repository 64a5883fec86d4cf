/**
 * Egress's trace and span ids (src/http/trace-ids.ts): each new trace is a valid, sampled version-00 `traceparent`
 * with ids of its own, a span id is 16 lowercase hex digits, and an entry whose trace id or span id is all zero is
 * never handed out (the recommendation makes such an id invalid), also across a pool's refill.
 */

import { describe, expect, test } from 'bun:test'
import { cryptoRandomHex } from '../../src/http/trace-ids.ts'
import { isTraceparent00, parseTraceparent } from '../../src/domain/trace-context.ts'

describe('cryptoRandomHex', () => {
  test('new traces are valid, sampled and distinct; span ids are 16 hex digits', () => {
    const random = cryptoRandomHex(4)
    const traces = Array.from({ length: 10 }, () => random.newTraceparent())
    for (const trace of traces) {
      expect(isTraceparent00(trace)).toBe(true)
      expect(parseTraceparent(trace)?.flags).toBe('01')
    }
    expect(new Set(traces.map((trace) => parseTraceparent(trace)?.traceId)).size).toBe(10)
    expect(new Set(traces.map((trace) => parseTraceparent(trace)?.parentId)).size).toBe(10)
    for (let draw = 0; draw < 10; draw++) expect(random.spanId()).toMatch(/^[0-9a-f]{16}$/)
  })

  test('the bytes in order, as hex; an entry with an all-zero trace id or span id is skipped', () => {
    let pools = 0
    // Pool 1: entry 0 has an all-zero trace id, entry 1 an all-zero span id, entry 2 is good. Pool 2: all good.
    const random = cryptoRandomHex(3, (pool) => {
      pools++
      for (let index = 0; index < pool.length; index++) pool[index] = (index + pools) & 0xff
      if (pools === 1) {
        pool.fill(0, 0, 16)
        pool.fill(0, 24 + 16, 48)
      }
    })
    const hex = (from: number, count: number, pool: number): string => Array.from({ length: count }, (_, index) => ((from + index + pool) & 0xff).toString(16).padStart(2, '0')).join('')
    expect(random.newTraceparent()).toBe(`00-${hex(48, 16, 1)}-${hex(64, 8, 1)}-01`)
    expect(random.spanId()).toBe(hex(16, 8, 2))
    expect(random.newTraceparent()).toBe(`00-${hex(24, 16, 2)}-${hex(40, 8, 2)}-01`)
  })
})
