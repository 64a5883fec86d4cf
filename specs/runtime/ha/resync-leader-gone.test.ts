/**
 * A standby re-syncing from the leader's snapshot when the leader dies takes over promptly (leader-gone.ts): the
 * takeover is skipped while a re-sync runs, and the re-sync used to wait on the dead leader until its request timed
 * out (the snapshot-recovery timeout, 60 s by default) — the pair leaderless all that time. Now the node's tick, finding
 * the lease free, aborts the re-sync's request; the re-sync is abandoned (an install cut short rolled back, nothing
 * reported as failed), the node follows again from the whole log it had, and the next tick takes over with it.
 *
 * Each leader here is a real loopback server holding the request open (as a leader whose host died mid-answer would);
 * "the leader dies" is its lease released (free at once, as an expired one is).
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { HaNode, type HaNodeOptions } from '../../../src/runtime/ha/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { startWorld, worldsStoppedAfterEach, type World } from '../harness.ts'
import { compactingLeader, recoveringStandby, recoveringStandbyOptions, tradeUntilCompacted } from './compacting-leader.ts'
import { swapEntries, waitFor } from './support.ts'

afterEach(removeTempDirs)
const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The node's own lease TTL: its tick runs every ttl/4. */
const NODE_LEASE_TTL_MS = 400
/** Far below the snapshot-recovery timeout these nodes keep (the default, 60 s), with room for a loaded machine. */
const TAKEOVER_MS_MAX = 10_000

/** Requests the spec's leader accepts and never answers; released (503) at cleanup. */
function heldRequests(): { hold: () => Promise<Response>; count: () => number } {
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

/** A recovering standby (compacting-leader.ts) with a short lease TTL whose takeover leads over the world's venues. */
function standbyNode(world: World, url: string): { node: HaNode; options: HaNodeOptions; logLines: string[]; leaderDies: () => void } {
  const standby = recoveringStandby(world, url, cleanups)
  const errors: string[] = []
  const options: HaNodeOptions = {
    ...standby.options,
    leaseTtlMs: NODE_LEASE_TTL_MS,
    startGateway: async (role, lease, beforeBootstrap) => {
      const base = recoveringStandbyOptions(world, standby.options.dataDir, errors)
      if (role !== 'leader') return Gateway.start({ ...base, role })
      if (lease === null) throw new Error('a leader gateway with no lease')
      const wal = { ...base.wal, lease, epoch: lease.epoch }
      return Gateway.start({ ...base, role, venues: world.gateway.options.venues, lease, wal, ...(beforeBootstrap === undefined ? {} : { beforeBootstrap }) })
    },
  }
  const node = new HaNode(options)
  cleanups.push(() => node.stop())
  return { node, options, logLines: standby.logLines, leaderDies: () => standby.lease.release() }
}

/** The node took over with its old (empty) log, nothing reported as a failed recovery, nothing left of the install. */
function expectTookOverWhole(node: HaNode, options: HaNodeOptions, logLines: string[]): void {
  expect({ role: node.role, epoch: node.lease?.epoch, recovery: node.lastSnapshotRecovery, failure: node.failure, entries: swapEntries(options.dataDir) }).toEqual({
    role: 'leader', epoch: 2, recovery: null, failure: null, entries: [],
  })
  expect(node.gateway?.engine.wal.firstLsn).toBe(1)
  expect(logLines.filter((line) => /snapshot recovery failed|FOLLOW_FAILED|NODE_STUCK/.test(line))).toEqual([])
}

test('a standby whose snapshot fetch hangs on a leader that dies: the re-sync is abandoned once the lease is free, and the standby takes over within moments, not at the fetch timeout', async () => {
  const world = await startWorld({ seed: 141 })
  worlds.push(world)
  const held = heldRequests()
  // A leader that compacted below the standby (RESYNC_REQUIRED) and holds the snapshot fetch open.
  const leader = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      const path = new URL(request.url).pathname
      if (path === '/replication/stream') return Response.json({ error: { code: 'RESYNC_REQUIRED', message: 'compacted', details: { leader_first_lsn: 50 } } }, { status: 409 })
      if (path === '/replication/snapshot') return held.hold()
      return new Response('not found', { status: 404 })
    },
  })
  cleanups.push(() => leader.stop(true))
  const url = `http://127.0.0.1:${leader.port}`
  const { node, options, logLines, leaderDies } = standbyNode(world, url)
  expect(options.snapshotRecovery).toBeUndefined() // the default: a 60 s fetch timeout
  await node.start()
  await waitFor(() => held.count() === 1, 10_000, `the snapshot fetch (${logLines.join(' | ')})`)
  const diedAtMs = Date.now()
  leaderDies()
  await waitFor(() => node.role === 'leader', TAKEOVER_MS_MAX, `the takeover (${logLines.join(' | ')})`)
  expect(Date.now() - diedAtMs).toBeLessThan(TAKEOVER_MS_MAX)
  expectTookOverWhole(node, options, logLines)
  expect(logLines).toContain(`snapshot recovery abandoned: the lease of ${url} is free (the leader is gone); its request was aborted (nothing changed); following again from this log`)
  expect(held.count()).toBe(1)
}, 30_000)

test("a standby whose install's catch-up pull hangs on a leader that dies: the half-built log is rolled back, the standby follows again from its whole log and takes over with it", async () => {
  const pulls = { held: null as ReturnType<typeof heldRequests> | null }
  // The leader answers everything but the pull from the snapshot's LSN on, which it holds open.
  const { world, url } = await compactingLeader(142, cleanups, {
    intercept: (request) => (request.pathname === '/replication/stream' && Number(request.searchParams.get('from_lsn')) > 1 ? pulls.held?.hold() : undefined),
  })
  await tradeUntilCompacted(world, 1, 142)
  const held = heldRequests()
  pulls.held = held
  const { node, options, logLines, leaderDies } = standbyNode(world, url)
  await node.start()
  await waitFor(() => held.count() === 1, 15_000, `the catch-up pull (${logLines.join(' | ')})`)
  // The install is half way: its new log anchored in log.recovering/, the standby's gateway stopped for it.
  expect({ built: existsSync(join(options.dataDir, 'log.recovering')), gateway: node.gateway }).toEqual({ built: true, gateway: null })
  const diedAtMs = Date.now()
  leaderDies()
  await waitFor(() => node.role === 'leader', TAKEOVER_MS_MAX, `the takeover (${logLines.join(' | ')})`)
  expect(Date.now() - diedAtMs).toBeLessThan(TAKEOVER_MS_MAX)
  expectTookOverWhole(node, options, logLines)
  expect(logLines).toContain(`snapshot recovery abandoned: the lease of ${url} is free (the leader is gone); its request was aborted (its install rolled back); following again from this log`)
  // It followed again from the log it had (empty) before it took over: never from the half-built one.
  const followedAgain = logLines.findIndex((line, index) => line.startsWith('standby from LSN 0') && index > logLines.findIndex((l) => l.startsWith('snapshot recovery abandoned')))
  expect(followedAgain).toBeGreaterThan(0)
  await node.stop()
  expect(openReadOnly(join(options.dataDir, 'log')).firstLsn).toBe(1)
}, 60_000)
