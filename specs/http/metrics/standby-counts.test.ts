/**
 * A standby's /metrics does not count the leader's order decisions (src/http/gateway-metrics.ts, attach): it applies
 * the leader's records as they replicate, and counted each `order.rejected` it applied, so its
 * egress_order_rejects_total equalled the leader's and a sum over the pair counted every reject twice. Once it takes
 * over, the rejects it decides itself are counted, and only those.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { eventually, post } from '../fixture.ts'
import { startHaPair, type HaPair, type PairNode } from '../ha-pair.ts'
import { parseExposition } from './exposition.ts'

/** More than demo-2's 1000 USD: the kernel rejects it at intake (422, an `order.rejected` in the log). */
const TOO_DEAR = { account: 'demo-2', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '1', price: '61000' } as const

let pair: HaPair
let leader: PairNode
let standby: PairNode

beforeAll(async () => {
  pair = await startHaPair({ sync: 'degrade_async' })
  leader = pair.first
  standby = pair.second
  await eventually(() => leader.node.role === 'leader' && standby.node.role === 'standby' && leader.node.sync?.state === 'sync', 15_000)
}, 30_000)
afterAll(async () => pair.stop())

async function rejectsOn(node: PairNode): Promise<number> {
  const exposition = parseExposition(await (await node.request('/metrics')).text())
  const samples = exposition.families.get('egress_order_rejects_total')?.samples ?? []
  return samples.reduce((sum, sample) => sum + sample.value, 0)
}

async function reject(node: PairNode, key: string): Promise<void> {
  const trader = await pair.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-2'] })
  const response = await node.request('/v1/orders', post(trader, TOO_DEAR, { 'Idempotency-Key': key }))
  expect(response.status).toBe(422)
  expect(((await response.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe('INSUFFICIENT_FUNDS')
}

test("a standby's scrape shows none of the leader's rejects; after a takeover it counts its own", async () => {
  await reject(leader, 'standby-counts-1')
  await reject(leader, 'standby-counts-2')
  const leaderGateway = leader.node.gateway
  if (leaderGateway === null) throw new Error('the leader has no gateway')
  // The standby holds and has applied the leader's whole log, the two rejects included.
  const rejectedLsn = leaderGateway.engine.wal.lastLsn
  await eventually(() => (standby.node.gateway?.engine.appendedLsn ?? 0) >= rejectedLsn, 10_000)
  expect({ leader: await rejectsOn(leader), standby: await rejectsOn(standby) }).toEqual({ leader: 2, standby: 0 })

  await leader.stop()
  await eventually(() => standby.node.role === 'leader' && standby.node.gateway?.ready === true, 15_000)
  expect(await rejectsOn(standby)).toBe(0)
  await reject(standby, 'standby-counts-3')
  expect(await rejectsOn(standby)).toBe(1)
}, 60_000)
