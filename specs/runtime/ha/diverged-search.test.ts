/**
 * A standby told DIVERGED asks the leader for chain hashes (GET /replication/hash) to find the last LSN they share.
 * The leader may fail that (stepping down, restarting: NOT_LEADER, 503) or fall silent (SIGSTOPped, its socket still
 * accepting): the standby must not be left without replication, nor hang in the search holding the node's role lock
 * (no takeover could run meanwhile). Nothing has changed on disk at that point, so it follows again and asks anew.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { caughtUp, forkedPair, rejoiningNode, type ForkedPair, type ForkedPairOptions, type RejoiningNode } from './forked-pair.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TEST_MS_MAX = 30_000

/** Answers the first `count` chain-hash requests with `answer` instead of the leader. */
function firstHashRequests(count: number, answer: () => Response | Promise<Response>): ForkedPairOptions & { seen: () => number } {
  let seen = 0
  return {
    intercept: (url) => {
      if (url.pathname !== '/replication/hash') return undefined
      seen++
      return seen <= count ? answer() : undefined
    },
    seen: () => seen,
  }
}

async function rejoined(seed: number, options: ForkedPairOptions): Promise<{ pair: ForkedPair; rejoin: RejoiningNode }> {
  const pair = await forkedPair(seed, options)
  cleanups.push(pair.cleanup)
  const rejoin = rejoiningNode(pair)
  cleanups.push(() => rejoin.node.stop())
  await rejoin.node.start()
  await caughtUp(rejoin, pair)
  return { pair, rejoin }
}

describe('finding the LSN shared with the leader', () => {
  test('a leader that fails a chain-hash request (503) does not leave the standby without replication: it follows again and keeps its prefix', async () => {
    const failing = firstHashRequests(1, () => Response.json({ error: { code: 'NOT_LEADER', message: 'stepping down' } }, { status: 503 }))
    const { pair, rejoin } = await rejoined(46, failing)
    expect(failing.seen()).toBeGreaterThan(1)
    expect(rejoin.node.lastDivergence).toMatchObject({ commonLsn: pair.commonLsn, keptPrefixToLsn: pair.commonLsn, fallback: null })
    expect(rejoin.logLines.some((line) => line.includes('finding the LSN shared with') && line.includes('503'))).toBe(true)
    expect(rejoin.errors).toEqual([])
  }, TEST_MS_MAX)

  test('a leader that never answers a chain-hash request (stopped, its socket open) is given up on after the silence bound, and asked again', async () => {
    const silent = firstHashRequests(1, () => new Promise<Response>(() => {}))
    const { pair, rejoin } = await rejoined(47, silent)
    expect(silent.seen()).toBeGreaterThan(1)
    expect(rejoin.node.lastDivergence).toMatchObject({ commonLsn: pair.commonLsn, keptPrefixToLsn: pair.commonLsn, fallback: null })
    expect(rejoin.errors).toEqual([])
  }, TEST_MS_MAX)
})
