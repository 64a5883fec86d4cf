/**
 * An HA standby stopped while a re-sync waits on a leader that accepted its request and never answers: stop() aborts
 * the request (the node's stop signal, stop-signal.ts) and resolves within moments, the re-sync abandoned, the node
 * `stopped` (not FOLLOW_FAILED or NODE_STUCK, nothing reported failed) and its data dir as consistent as before:
 *
 * - the snapshot fetch of a snapshot recovery: nothing changed;
 * - the install's catch-up pull, with `log.recovering/` half built: rolled back;
 * - the search for the LSN shared with the leader after a divergence: nothing set aside.
 *
 * Before, stop() waited for such a request until its own timeout (the snapshot-recovery timeout, 60 s by default;
 * silenceMsMax for the search), within stop()'s bound of 2 × that + a backoff + 2 lease TTLs: ~131 s with serve's
 * defaults, 240 s with these nodes' limits. Each leader here is a real loopback server holding the request open.
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly, Wal } from '../../../wal/index.ts'
import { HaNode, roleChangeWaitMsMax, type HaNodeOptions } from '../../../src/runtime/ha/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { compactingLeader, recoveringStandby, tradeUntilCompacted } from './compacting-leader.ts'
import { forkedPair, rejoiningNode } from './forked-pair.ts'
import { swapEntries, waitFor } from './support.ts'

afterEach(removeTempDirs)
const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Far below the old wait (a generous margin for a loaded machine: the stop itself takes milliseconds). */
const STOP_MS_MAX = 5_000

/**
 * Requests the spec's leader accepts and never answers; `release` (a cleanup, run first) answers them 503, so that a
 * node whose stop did not abort them (the code before) can still be stopped after the spec failed.
 */
function heldRequests(cleanups: (() => Promise<void> | void)[]): { hold: () => Promise<Response>; count: () => number } {
  const released = Promise.withResolvers<void>()
  let count = 0
  cleanups.push(() => released.resolve())
  return {
    hold: () => {
      count++
      return released.promise.then(() => new Response('released by the spec', { status: 503 }))
    },
    count: () => count,
  }
}

/** Stops `node`; how it went ('stopped', 'rejected: …', or 'still waiting' at STOP_MS_MAX) and how long it took. */
async function stopWithin(node: HaNode): Promise<{ outcome: string; tookMs: number }> {
  const startedMs = Date.now()
  const stopped = node.stop().then(() => 'stopped', (error: unknown) => `rejected: ${String(error)}`)
  const outcome = await Promise.race([stopped, Bun.sleep(STOP_MS_MAX).then(() => 'still waiting')])
  return { outcome, tookMs: Date.now() - startedMs }
}

/** The node ended stopped, not failed, with no report of a failed re-sync, its gateway's log closed. */
async function expectStoppedCleanly(node: HaNode, dataDir: string, logLines: string[]): Promise<void> {
  const health = node.status()
  expect({ role: node.role, health: health.role, failure: health.failure, recovery: health.last_snapshot_recovery, divergence: health.last_divergence }).toEqual({
    role: 'stopped', health: 'stopped', failure: null, recovery: null, divergence: null,
  })
  expect(logLines.filter((line) => /FOLLOW_FAILED|NODE_STUCK|snapshot recovery failed|following again/.test(line))).toEqual([])
  // Nothing built, set aside or committed is left in the data dir, and its log is free to open again.
  expect(swapEntries(dataDir)).toEqual([])
  const reopened = Wal.openReplica(join(dataDir, 'log'), { durability: 'none' })
  await reopened.close()
}

/** What stop() waited for at most before (and still does, as the backstop): far beyond STOP_MS_MAX. */
function expectOldBoundFarAbove(options: HaNodeOptions): void {
  expect(roleChangeWaitMsMax(options)).toBeGreaterThan(20 * STOP_MS_MAX)
}

test("a leader that never answers the snapshot fetch: stop() aborts it and resolves at once; nothing is installed or reported failed", async () => {
  const world = await startWorld({ seed: 91 })
  worlds.push(world)
  const fetches = { held: null as ReturnType<typeof heldRequests> | null }
  // A leader that compacted below the standby (RESYNC_REQUIRED) and holds the snapshot fetch open.
  const leader = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      const path = new URL(request.url).pathname
      if (path === '/replication/stream') return Response.json({ error: { code: 'RESYNC_REQUIRED', message: 'compacted', details: { leader_first_lsn: 50 } } }, { status: 409 })
      if (path === '/replication/snapshot' && fetches.held !== null) return fetches.held.hold()
      return new Response('not found', { status: 404 })
    },
  })
  const url = `http://127.0.0.1:${leader.port}`
  const { options, logLines } = recoveringStandby(world, url, cleanups)
  cleanups.push(() => leader.stop(true))
  expectOldBoundFarAbove(options)
  const node = new HaNode(options)
  cleanups.push(() => node.stop())
  const held = heldRequests(cleanups)
  fetches.held = held
  await node.start()
  await waitFor(() => held.count() === 1, 10_000, `the snapshot fetch (${logLines.join(' | ')})`)
  const stopped = await stopWithin(node)
  expect(stopped.outcome).toBe('stopped')
  expect(stopped.tookMs).toBeLessThan(STOP_MS_MAX)
  await expectStoppedCleanly(node, options.dataDir, logLines)
  expect(openReadOnly(join(options.dataDir, 'log')).lastLsn).toBe(0)
  expect(logLines).toContain(`snapshot recovery abandoned: the node is stopping; its request to ${url} was aborted (nothing changed)`)
  expect(held.count()).toBe(1)
}, 30_000)

test("a leader that never answers the install's catch-up pull: stop() aborts it and resolves at once; the half-built log.recovering/ is rolled back", async () => {
  const pulls = { held: null as ReturnType<typeof heldRequests> | null }
  // The leader answers everything but the pull from the snapshot's LSN on (the standby's first stream, from LSN 1,
  // gets its RESYNC_REQUIRED), which it holds open.
  const { world, url } = await compactingLeader(92, cleanups, {
    intercept: (request) => (request.pathname === '/replication/stream' && Number(request.searchParams.get('from_lsn')) > 1 ? pulls.held?.hold() : undefined),
  })
  await tradeUntilCompacted(world, 1, 92)
  const { options, logLines } = recoveringStandby(world, url, cleanups)
  expectOldBoundFarAbove(options)
  const node = new HaNode(options)
  cleanups.push(() => node.stop())
  const held = heldRequests(cleanups)
  pulls.held = held
  await node.start()
  await waitFor(() => held.count() === 1, 15_000, `the catch-up pull (${logLines.join(' | ')})`)
  // The install is half way: its new log anchored in log.recovering/, the standby's gateway stopped for it.
  expect({ built: existsSync(join(options.dataDir, 'log.recovering')), gateway: node.gateway }).toEqual({ built: true, gateway: null })
  const stopped = await stopWithin(node)
  expect(stopped.outcome).toBe('stopped')
  expect(stopped.tookMs).toBeLessThan(STOP_MS_MAX)
  await expectStoppedCleanly(node, options.dataDir, logLines)
  // Rolled back: the live log is the one the standby had (empty), and a start finds nothing to finish.
  expect(openReadOnly(join(options.dataDir, 'log')).lastLsn).toBe(0)
  expect(logLines).toContain(`snapshot recovery abandoned: the node is stopping; its request to ${url} was aborted (its install rolled back)`)
  await Bun.sleep(300)
  expect({ role: node.role, gateway: node.gateway, pulls: held.count(), entries: swapEntries(options.dataDir) }).toEqual({ role: 'stopped', gateway: null, pulls: 1, entries: [] })
}, 60_000)

test('a leader that never answers the search for the shared LSN after a divergence: stop() aborts it and resolves at once; nothing is set aside', async () => {
  const hashes = { held: null as ReturnType<typeof heldRequests> | null }
  const pair = await forkedPair(93, { intercept: (url) => (url.pathname === '/replication/hash' ? hashes.held?.hold() : undefined) })
  cleanups.push(pair.cleanup)
  // Each chain-hash request bounded by a minute (silenceMsMax): the search would hold stop() that long.
  const rejoin = rejoiningNode(pair, { silenceMsMax: 60_000 })
  cleanups.push(() => rejoin.node.stop())
  const held = heldRequests(cleanups)
  hashes.held = held
  await rejoin.node.start()
  await waitFor(() => held.count() === 1, 15_000, `the search for the shared LSN (${rejoin.logLines.join(' | ')})`)
  const stopped = await stopWithin(rejoin.node)
  expect(stopped.outcome).toBe('stopped')
  expect(stopped.tookMs).toBeLessThan(STOP_MS_MAX)
  await expectStoppedCleanly(rejoin.node, pair.a.dir, rejoin.logLines)
  // A's log is whole, as its crash left it: the records beyond the shared LSN are still there, nothing went aside.
  expect(openReadOnly(join(pair.a.dir, 'log')).lastLsn).toBe(pair.a.lastLsn)
  expect(rejoin.logLines.some((line) => line.startsWith(`re-sync abandoned while finding the LSN shared with ${pair.server.url}: the node is stopping`))).toBe(true)
}, 60_000)
