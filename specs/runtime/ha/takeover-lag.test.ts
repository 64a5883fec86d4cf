/**
 * A standby promoted while its log is behind the old leader's (asynchronous replication: the leader acknowledged
 * records the standby never received before the leader went silent). Those records are not in the new leader's log,
 * and unless the old leader comes back (its divergence report then lists them) nothing said so: the takeover logged
 * its epoch and bootstrap, /health its duration. It now reports what the last envelope told it the old leader held.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { Lease, rawFrameBytes } from '../../../wal/index.ts'
import { encodeEnvelope } from '../../../src/runtime/ha/envelope.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../harness.ts'
import { waitFor } from './support.ts'
import { takeoverNode, worldGateways } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A leader that streams its log only up to `sentToLsn`, each envelope saying its log ends at `lastLsn`. */
function laggingLeader(world: World, sentToLsn: number, lastLsn: number): { url: string } {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      const url = new URL(request.url)
      if (url.pathname === '/replication/ack') return new Response(null, { status: 204 })
      if (url.pathname !== '/replication/stream') return new Response('not found', { status: 404 })
      const fromLsn = Number(url.searchParams.get('from_lsn'))
      const frames = fromLsn > sentToLsn ? [] : Array.from(world.gateway.engine.wal.read(fromLsn, { toLsn: sentToLsn }), (frame) => rawFrameBytes(frame).slice())
      return new Response(Buffer.concat([encodeEnvelope(Buffer.concat(frames), lastLsn), encodeEnvelope(new Uint8Array(0), lastLsn)]))
    },
  })
  cleanups.push(() => void server.stop(true))
  return { url: `http://127.0.0.1:${server.port}` }
}

describe('a standby promoted behind the old leader', () => {
  test('reports the records the old leader held beyond its log (/health ha.last_takeover_lag, and a log line)', async () => {
    const world = await startWorld({ seed: 31 })
    worlds.push(world)
    const sentToLsn = world.gateway.engine.wal.lastLsn
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: 'lost-1' }
    expect((await world.gateway.place(traderA, body, null)).reply.kind).toBe('accepted')
    await run(world, 200)
    const leaderLastLsn = world.gateway.engine.wal.lastLsn
    expect(leaderLastLsn).toBeGreaterThan(sentToLsn)
    const leader = laggingLeader(world, sentToLsn, leaderLastLsn)
    const standby = takeoverNode(
      cleanups,
      worldGateways(world),
      { oldLeader: false, leaseTtlMs: 300 },
    )
    const oldLease = Lease.acquire({ dir: standby.leaseDir, holderId: `old ${leader.url}`, ttlMs: 60_000, clockSkewMsMax: 10 })
    await standby.node.start()
    await waitFor(() => standby.node.status().lag_records === leaderLastLsn - sentToLsn, 5_000, 'the standby to hear of the leader\'s head')
    expect(standby.node.status().last_takeover_lag).toBeNull()
    // The old leader goes (its lease given up: the standby takes over at its next tick, not after a TTL).
    oldLease.release()
    await waitFor(() => standby.node.role === 'leader', 5_000, `the takeover (${standby.logLines.join(' | ')})`)
    expect(standby.node.status().last_takeover_lag).toEqual({
      epoch: 2,
      log_last_lsn: sentToLsn,
      leader_last_lsn: leaderLastLsn,
      records_behind: leaderLastLsn - sentToLsn,
    })
    expect(standby.logLines.some((line) => line.includes(`${leaderLastLsn - sentToLsn} records the old leader's log held`))).toBe(true)
  })

  test('a standby that never heard from a leader says so (null, not 0 records behind)', async () => {
    const world = await startWorld({ seed: 32 })
    worlds.push(world)
    const standby = takeoverNode(cleanups, worldGateways(world))
    await standby.node.start()
    await waitFor(() => standby.node.role === 'leader', 5_000, `the takeover (${standby.logLines.join(' | ')})`)
    expect(standby.node.status().last_takeover_lag).toEqual({ epoch: 2, log_last_lsn: 0, leader_last_lsn: null, records_behind: null })
  })
})
