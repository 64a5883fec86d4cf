/**
 * The reconcile grace covers the venues' request timeouts (src/config/load.ts, src/config/kernel.ts). "Not found" read
 * back within a FIX venue's `requestTimeoutMs` of the send is no proof of absence: the venue may still answer the place
 * (the adapter waits that long before it calls the outcome unknown). A grace shorter than that would conclude Failed,
 * not at the venue, and make the order resendable while the first copy may still be processed.
 */

import { describe, expect, test } from 'bun:test'
import { kernelParamsOverrides, parseConfig } from '../../src/config/index.ts'
import { messageOf } from './support.ts'

function fixVenue(name: string, requestTimeoutMs?: number): Record<string, unknown> {
  return {
    type: 'fix', name, host: '127.0.0.1', port: 9001, beginString: 'FIX.4.2', senderCompId: 'EGRESS', targetCompId: 'EXEC', marketData: 'static',
    instruments: [{ symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10000', referencePrice: '100' }],
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  }
}

describe('kernel.reconcileGraceMs and the venues\' request timeouts', () => {
  test('an explicit grace below a FIX venue\'s request timeout is a config error naming both fields', () => {
    const message = messageOf(() => parseConfig({ kernel: { reconcileGraceMs: 5_000 }, venues: [fixVenue('fx')] }))
    expect(message).toContain('kernel.reconcileGraceMs')
    expect(message).toContain('venues.0.requestTimeoutMs')
    expect(message).toContain('10000')
    // The longest one is named, whichever venue has it.
    expect(messageOf(() => parseConfig({ kernel: { reconcileGraceMs: 20_000 }, venues: [fixVenue('a', 1_000), fixVenue('b', 30_000)] }))).toContain('venues.1.requestTimeoutMs')
  })

  test('a grace at or above every request timeout is taken as written', () => {
    const config = parseConfig({ kernel: { reconcileGraceMs: 10_000 }, venues: [fixVenue('fx')] })
    expect(kernelParamsOverrides(config.kernel, config.venues)).toEqual({ reconcileGraceMs: 10_000 })
    expect(kernelParamsOverrides(parseConfig({ kernel: { reconcileGraceMs: 200 } }).kernel)).toEqual({ reconcileGraceMs: 200 })
  })

  test('unset, the grace is the larger of 5 s and the longest venue request timeout', () => {
    const fix = parseConfig({ venues: [fixVenue('a', 2_000), fixVenue('b')] })
    expect(kernelParamsOverrides(fix.kernel, fix.venues)).toEqual({ reconcileGraceMs: 10_000 })
    const fast = parseConfig({ kernel: { sendRetryMs: 500 }, venues: [fixVenue('a', 2_000)] })
    expect(kernelParamsOverrides(fast.kernel, fast.venues)).toEqual({ sendRetryMs: 500 })
    expect(kernelParamsOverrides(parseConfig({}).kernel, undefined)).toEqual({})
  })
})
