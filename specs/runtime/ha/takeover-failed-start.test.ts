/**
 * A takeover whose leader start fails after bootstrap (a later start step: the audit's start, or its lease lost) sends
 * no place: an HA node taking the lead holds its places and amends until the whole promotion has succeeded
 * (Executor.holdPlaceSends, src/runtime/ha/leading.ts).
 *
 * Found by a review (s52), with this scenario: A leads at epoch 1 (async replication, `--sync-replication off`); B
 * follows it and holds every record. A crashes with s-1, an order whose place went unanswered (Unknown: a bootstrap
 * suspect), and q-1, an order accepted (202) and queued, not yet sent. B takes the lease at epoch 2 and runs
 * bootstrap; then a later step of its start fails and B follows again. A comes back, takes the lease and leads with a
 * log that knows nothing of what B did. Before the hold, B's bootstrap had placed q-1 and resent s-1, recorded only in
 * B's own log (a promoting node serves no replication), which was set aside when B followed A: A placed q-1 again
 * under the same client order id (the venue saw it twice; one that had forgotten the ended order executed it twice).
 * Now B sends nothing but read-backs, and A places each order once.
 */

import { afterEach, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Lease } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import type { Engine } from '../../../src/runtime/engine.ts'
import { HaNode } from '../../../src/runtime/ha/index.ts'
import { crashWorld, removeDir, run, standbyOptionsOf, startWorld, tempDataDir, traderA, type World } from '../harness.ts'
import { TOKEN, haHttp, serveReplication, waitFor } from './support.ts'
import { followerLogOf } from './forked-pair.ts'
import { leaderOptionsOf } from './takeover-node.ts'

const TTL_MS = 1_000
const SKEW_MS = 10
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined)
})

function pumpClock(world: World): () => Promise<void> {
  let on = true
  const loop = (async () => {
    while (on) {
      await world.clock.advanceAsync(5)
      await Bun.sleep(1)
    }
  })()
  return async () => {
    on = false
    await loop
  }
}

function nodeOf(name: string, world: World, dataDir: string, leaseDir: string, advertiseUrl: string, role: 'auto' | 'standby', lines: string[], errors: string[], onLeaderStart?: (start: number, gateway: Gateway) => void, sync: 'off' | 'degrade_async' | 'fail_closed' = 'off'): HaNode {
  let leaderStarts = 0
  const node = new HaNode({
    nodeId: name,
    advertiseUrl,
    dataDir,
    leaseDir,
    leaseTtlMs: TTL_MS,
    clockSkewMsMax: SKEW_MS,
    role,
    replicationToken: TOKEN,
    startGateway: async (gatewayRole, lease, beforeBootstrap) => {
      if (gatewayRole === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
      if (lease === null) throw new Error('no lease')
      const start = ++leaderStarts
      const hook = (engine: Engine, gateway: Gateway): void => {
        beforeBootstrap?.(engine, gateway)
        onLeaderStart?.(start, gateway)
      }
      return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, hook))
    },
    onGateway: () => {},
    log: (line) => void lines.push(`[${name}] ${line}`),
    replication: { backoffMsMin: 10, backoffMsMax: 50, envelopeBytesMax: 4 * 1024 * 1024, silenceMsMax: 1_000 },
    takeoverBackoffMsMax: 60_000,
    sync: { policy: sync, timeoutMs: 300, waitersMax: 100 },
  })
  return node
}

/** Every client order id the venue received a place for, per id, as a subscriber to its reports sees new orders. */
const fillsSeen = new Map<string, string[]>()
function venueOrdersSeen(world: World): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>()
  world.venue.onReport((report) => {
    const id = report.clientOrderId
    if (id === undefined || report.venueOrderId === undefined) return
    if (report.lastQty !== undefined) fillsSeen.set(id, [...(fillsSeen.get(id) ?? []), `${report.venueOrderId}:${report.lastQty}`])
    let set = seen.get(id)
    if (set === undefined) seen.set(id, (set = new Set()))
    set.add(report.venueOrderId)
  })
  return seen
}

interface Scenario {
  /** q: the queued order's body; marketable fills at once. */
  marketable: boolean
  /** Simulated time A stays down after B's failed takeover (past the venue's ended-order retention or not). */
  downMs: number
  withSuspect: boolean
  /**
   * After the downtime, the venue no longer holds ended orders (every one ended more than the sim's own 5-minute
   * endedOrderRetentionMs ago; a venue that dedupes client ids among open orders only behaves so at once).
   */
  forgetEnded?: boolean
  /** Every node's synchronous replication policy (default off). */
  sync?: 'off' | 'degrade_async' | 'fail_closed'
  /** How B's start fails after bootstrap: audit.start throws (default), or its lease is lost (a newer epoch taken). */
  failBy?: 'audit' | 'lease'
}

async function scenario(seed: number, s: Scenario) {
  const leaseDir = tempDataDir()
  cleanups.push(() => removeDir(leaseDir))
  const leaseA = Lease.acquire({ dir: leaseDir, holderId: 'a http://127.0.0.1:1', ttlMs: 60_000, clockSkewMsMax: SKEW_MS })
  const a = await startWorld({ seed, wal: { lease: leaseA, epoch: leaseA.epoch } })
  cleanups.push(() => removeDir(a.dir))
  const seen = venueOrdersSeen(a)
  const ref = Number((a.venue.referencePrice('BTC-USD')?.price ?? 0n) / 10n ** 8n)

  let sId: string | null = null
  if (s.withSuspect) {
    // s-1: its place (and every read-back) never reaches the venue: Unknown in A's log.
    a.venue.setFaults({ dropRequestProbability: 1 })
    const placed = await a.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: String(ref - 200), tif: 'GTC', client_order_id: 's-1' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(JSON.stringify(placed.reply))
    sId = placed.reply.orderId
    await run(a, 1_500)
  }
  // q: accepted and queued, A's executor behind (stopped: the order is never sent by A).
  a.gateway.executor.stop()
  a.venue.setFaults({})
  const body = s.marketable
    ? { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: String(ref + 500), tif: 'IOC', client_order_id: 'q-1' }
    : { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: String(ref - 100), tif: 'GTC', client_order_id: 'q-1' }
  const queued = await a.gateway.place(traderA, body, null)
  if (queued.reply.kind !== 'accepted') throw new Error(JSON.stringify(queued.reply))
  const qId = queued.reply.orderId
  await run(a, 50)
  const qCid = a.gateway.engine.state.orders.get(qId)!.venueClientOrderId
  const sCid = sId === null ? null : a.gateway.engine.state.orders.get(sId)!.venueClientOrderId
  const atCrash = { q: a.gateway.engine.state.orders.get(qId)!.status, s: sId === null ? null : a.gateway.engine.state.orders.get(sId)!.status, lastLsn: a.gateway.engine.wal.lastLsn }

  const bDir = await followerLogOf(a)
  cleanups.push(() => removeDir(bDir))
  await crashWorld(a)
  // A's lease runs out (as after a crash: released here rather than waited out).
  leaseA.release()
  const placesBefore = a.venue.inspect().requests.calls.place

  const stopPump = pumpClock(a)
  cleanups.push(stopPump)
  const lines: string[] = []
  const errorsB: string[] = []
  const failedStart: { placesAtFailure: number; venueOrdersAtFailure: unknown; bStatuses: unknown; bLastLsn: number } = { placesAtFailure: -1, venueOrdersAtFailure: null, bStatuses: null, bLastLsn: -1 }
  let b = nodeOf('b', a, bDir, leaseDir, 'http://127.0.0.1:2', 'standby', lines, errorsB, (start, gateway) => {
    if (start !== 1) return
    // The injected failure: a later step of the start (audit.start: its self-check thread, say) fails, after bootstrap.
    ;(gateway as unknown as { audit: unknown }).audit = {
      verified: true,
      verifiedThroughLsn: Number.MAX_SAFE_INTEGER,
      afterCommit: () => {},
      stop: () => {},
      sealAtShutdown: async () => {},
      checkAtStart: async () => {},
      start: async () => {
        // Bootstrap has returned; its executor's calls reach the venue meanwhile (a self-check takes real time).
        // Bootstrap has returned; its executor runs meanwhile (a self-check takes real time).
        await Bun.sleep(100)
        await gateway.engine.settled()
        failedStart.placesAtFailure = a.venue.inspect().requests.calls.place
        failedStart.venueOrdersAtFailure = a.venue.inspect().orders.map((o) => ({ cids: o.clientOrderIds, status: o.status, venueOrderId: o.venueOrderId }))
        failedStart.bStatuses = { q: gateway.engine.state.orders.get(qId)?.status, s: sId === null ? null : gateway.engine.state.orders.get(sId)?.status, resent: gateway.bootstrapReport?.resent }
        failedStart.bLastLsn = gateway.engine.wal.lastLsn
        if (s.failBy === 'lease') {
          // Another holder takes a newer epoch (B's renewals late under load): throwIfStartedWithout fails the start.
          const epoch = gateway.engine.wal.options.lease!.epoch + 1
          const now = Date.now()
          writeFileSync(join(leaseDir, `epoch-${String(epoch).padStart(10, '0')}.json`), JSON.stringify({ holderId: 'other http://127.0.0.1:3', epoch, expiresAtMs: now + 300, renewedAtMs: now, replicatedLsn: 0 }))
          return
        }
        throw new Error('injected: audit self-check thread could not start')
      },
    }
  }, s.sync)
  const firstB = b
  cleanups.push(() => firstB.stop())
  await b.start()
  await waitFor(() => lines.some((line) => line.includes('takeover at epoch 2 failed') || line.includes('lease epoch 2 was lost') || line.includes('failed to take over') || line.includes('epoch 2') && line.includes('following again')) && b.role === 'standby', 15_000, `B's failed takeover: ${lines.join('\n')}`)
  const bAfterFail = { role: b.role, logLastLsn: b.gateway?.engine.wal.lastLsn, q: b.gateway?.engine.state.orders.get(qId)?.status, s: sId === null ? null : b.gateway?.engine.state.orders.get(sId)?.status }
  // Lease variant: B (its host overloaded, the cause of the lost lease) is restarted by its supervisor: down meanwhile.
  if (s.failBy === 'lease') await b.stop()

  // A is down for a while; then it comes back (role auto) and takes the free lease.
  await stopPump()
  for (let left = s.downMs; left > 0; left -= 10_000) await a.clock.advanceAsync(Math.min(10_000, left))
  const forgotten = s.forgetEnded === true ? a.venue.forgetEndedOrders() : 0
  const stopPump2 = pumpClock(a)
  cleanups.push(stopPump2)
  const errorsA: string[] = []
  const holder: { node: HaNode | null } = { node: null }
  const server = serveReplication(() => holder.node!.gateway!.engine.wal, haHttp({ isLeader: () => holder.node?.isLeader() ?? false, leaderUrl: () => holder.node?.leaderUrl() ?? null }))
  cleanups.push(() => server.stop())
  const nodeA = nodeOf('a', a, a.dir, leaseDir, server.url, 'auto', lines, errorsA, undefined, s.sync)
  holder.node = nodeA
  cleanups.push(() => nodeA.stop())
  await nodeA.start()
  await waitFor(() => nodeA.role === 'leader', 10_000, 'A leading')
  const gA = nodeA.gateway!
  if (s.failBy === 'lease') {
    b = nodeOf('b', a, bDir, leaseDir, 'http://127.0.0.1:2', 'standby', lines, errorsB, undefined, s.sync)
    const secondB = b
    cleanups.push(() => secondB.stop())
    await b.start()
  }
  // A's log ends where A's crash left it: nothing of B's epoch-2 records.
  const aBootstrap = gA.bootstrapReport
  const waits: string[] = []
  // B follows A and finds its epoch-2 records divergent.
  await waitFor(() => b.lastDivergence !== null && b.role === 'standby' && b.gateway?.engine.wal.lastLsn === gA.engine.wal.lastLsn, 15_000, 'B set aside and caught up')
    .catch((error: Error) => void waits.push(error.message))
  await waitFor(() => {
    const q = gA.engine.state.orders.get(qId)?.status
    return q !== undefined && !['Accepted', 'Enqueued', 'Sent', 'Unknown'].includes(q)
  }, 10_000, 'A settling q-1').catch((error: Error) => void waits.push(`${error.message} (q-1 at ${gA.engine.state.orders.get(qId)?.status})`))
  await Bun.sleep(200)
  const inspection = a.venue.inspect()
  const result = {
    atCrash,
    bFailedStart: failedStart,
    bAfterFail,
    placesBeforeB: placesBefore,
    aEpoch: nodeA.lease?.epoch,
    aBootstrap,
    aStatuses: { q: gA.engine.state.orders.get(qId)?.status, s: sId === null ? null : gA.engine.state.orders.get(sId)?.status, qFilled: gA.engine.state.orders.get(qId)?.cumQty?.toString() },
    venue: {
      placeCalls: inspection.requests.calls.place,
      duplicatePlaces: inspection.requests.duplicatePlaces,
      ordersForgotten: inspection.ordersForgotten,
      ordersNow: inspection.orders.map((o) => ({ cids: o.clientOrderIds, status: o.status, venueOrderId: o.venueOrderId })),
      forgottenAtARestart: forgotten,
      venueOrderIdsReportedForQ: [...(seen.get(qCid) ?? [])],
      fillReportsForQ: fillsSeen.get(qCid) ?? [],
      tradesForQ: inspection.trades.filter((t) => t.clientOrderId === qCid).length,
    },
    bDivergence: b.lastDivergence,
    waits,
    lines: lines.filter((l) => /epoch|diverg|set aside|leader at|takeover|injected/i.test(l)),
    errorsB,
    errorsA,
  }
  await stopPump2()
  return { result, qCid, sCid }
}

test('sync off: a takeover failing after bootstrap placed nothing; the next leader places each order once', async () => {
  const { result } = await scenario(901, { marketable: false, downMs: 0, withSuspect: true })
  const shown = JSON.stringify({ bFailedStart: result.bFailedStart, placesBeforeB: result.placesBeforeB, aStatuses: result.aStatuses, venue: result.venue, waits: result.waits }, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))
  // B's failed start sent no place (its read-backs of s-1 went out), and left s-1 for the next leader to resend.
  expect({ placesAtFailure: result.bFailedStart.placesAtFailure, shown }).toEqual({ placesAtFailure: result.placesBeforeB, shown })
  // A placed q-1 once and resent s-1 once: no client order id twice at the venue.
  expect({ duplicatePlaces: result.venue.duplicatePlaces, shown }).toEqual({ duplicatePlaces: 0, shown })
  expect(result.venue.placeCalls).toBe(result.placesBeforeB + 2)
  expect(result.aStatuses.q).toBe('AckedOpen')
  expect(result.aStatuses.s).toBe('AckedOpen')
}, 60_000)

test('sync off: the same with the takeover failing on its lease lost after bootstrap (throwIfStartedWithout)', async () => {
  const { result } = await scenario(904, { marketable: false, downMs: 0, withSuspect: true, failBy: 'lease' })
  const shown = JSON.stringify({ bFailedStart: result.bFailedStart, placesBeforeB: result.placesBeforeB, aStatuses: result.aStatuses, venue: result.venue, waits: result.waits }, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))
  expect({ placesAtFailure: result.bFailedStart.placesAtFailure, shown }).toEqual({ placesAtFailure: result.placesBeforeB, shown })
  expect({ duplicatePlaces: result.venue.duplicatePlaces, shown }).toEqual({ duplicatePlaces: 0, shown })
}, 60_000)
