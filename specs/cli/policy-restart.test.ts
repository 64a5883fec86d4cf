/**
 * A configured account policy is recorded once (`kernel.configured`, schema version 5) and comes back from the log
 * at every restart — from the shutdown snapshot (kernel-state format 13) or by replaying the whole log — so a
 * restarted gateway answers every key as it first did and decides new orders with the same policy.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import { EVENT_CODES } from '../../src/domain/events/index.ts'
import type { Reply } from '../../src/kernel/index.ts'
import { reasonInfo } from '../../src/domain/reasons.ts'

const TRADER: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }
const BOT: Principal = { id: 'robo', roles: ['bot'], accounts: ['demo-1'], liveAllowed: false }
const RESTING = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC' }

const dirs: string[] = []
const running: { served: ServeGateway; clock: StoppableClock }[] = []
afterEach(async () => {
  for (const { served, clock } of running.splice(0)) {
    await served.stop()
    clock.cancelAll()
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function start(dataDir: string): Promise<ServeGateway> {
  const clock = new StoppableClock()
  const config = parseConfig({
    dataDir,
    wal: { durability: 'none' },
    auth: { hs256Secret: 'x'.repeat(32) },
    backoffice: { reconcileIntervalMs: 86_400_000 },
    accounts: [{ id: 'demo-1', balances: { USD: '1000000', BTC: '10' }, policy: { newOrdersBy: ['trader'], maxOpenOrders: 2, maxOrderNotional: '5000' } }],
  })
  const served = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, onError: (error) => { throw error } })
  running.push({ served, clock })
  return served
}

async function stop(served: ServeGateway): Promise<void> {
  const [entry] = running.splice(running.findIndex((item) => item.served === served), 1)
  await served.stop()
  entry?.clock.cancelAll()
}

/**
 * Each request's answer, without the duplicate flag (a repeat says it is one). A retryable rejection (the open-orders
 * limit) is not remembered: its repeat is decided again, and under the key window its id takes the hour of that
 * decision (src/kernel/intake/place.ts orderIdFor), so a run across an hour's end names another: its id is left out.
 */
async function answers(served: ServeGateway, requests: readonly [Principal, Record<string, unknown>, string][]): Promise<unknown[]> {
  const replies: unknown[] = []
  for (const [principal, body, key] of requests) {
    const { reply } = (await served.gateway.place(principal, body, key)) as { reply: Reply }
    const { duplicate: _, ...rest } = reply as Reply & { duplicate?: boolean }
    if (rest.kind === 'rejected' && reasonInfo(rest.reason).errorClass === 'retryable') {
      const { orderId: _decidedAgain, ...withoutId } = rest
      replies.push(withoutId)
    } else replies.push(rest)
  }
  return replies
}

const REQUESTS: readonly [Principal, Record<string, unknown>, string][] = [
  [TRADER, RESTING, 'rest-1'],
  [BOT, RESTING, 'bot-1'],
  [TRADER, { ...RESTING, qty: '0.1' }, 'big-1'],
  [TRADER, { ...RESTING, price: '58000' }, 'rest-2'],
  [TRADER, { ...RESTING, price: '57000' }, 'rest-3'],
]

describe('configured policies across restarts', () => {
  test('from the shutdown snapshot and from a full replay, the policy and every decision are the same', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'egress-policy-restart-'))
    dirs.push(dataDir)
    const first = await start(dataDir)
    const policy = first.gateway.engine.state.policies.get('demo-1')
    expect(policy).toMatchObject({ newOrdersBy: ['trader'], maxOpenOrders: 2 })
    const firstAnswers = await answers(first, REQUESTS)
    expect(firstAnswers.map((reply) => (reply as { kind: string; reason?: string }).reason ?? (reply as { kind: string }).kind)).toEqual([
      'accepted', 'PRINCIPAL_KIND_NOT_ALLOWED', 'ORDER_NOTIONAL_LIMIT', 'accepted', 'OPEN_ORDERS_LIMIT',
    ])
    await stop(first)

    // From the snapshot taken at shutdown.
    const second = await start(dataDir)
    expect(second.gateway.restoreReport?.snapshot).not.toBeNull()
    expect(second.gateway.engine.state.policies.get('demo-1')).toEqual(policy)
    expect(await answers(second, REQUESTS)).toEqual(firstAnswers)
    const later = await answers(second, [[BOT, RESTING, 'bot-2']])
    await stop(second)

    // From the log alone: the snapshots removed, the whole log replayed.
    rmSync(join(dataDir, 'snapshots'), { recursive: true, force: true })
    const third = await start(dataDir)
    expect(third.gateway.restoreReport?.snapshot).toBeNull()
    expect(third.gateway.engine.state.policies.get('demo-1')).toEqual(policy)
    expect(await answers(third, [...REQUESTS, [BOT, RESTING, 'bot-2']])).toEqual([...firstAnswers, ...later])
    // The config never changed: one kernel.configured record, of schema version 10 (4 + the book limits at 5 + the cap on
    // ended orders held at 8 + a policy's selfTrade at 9 + the idempotency key window at 10), holds the policy.
    const configured = [...third.gateway.engine.wal.read(1)].filter((frame) => frame.type === EVENT_CODES['kernel.configured'])
    expect(configured.map((frame) => frame.version)).toEqual([10])
  }, 30_000)
})
