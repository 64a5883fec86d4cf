/**
 * Takeover latency benchmark: what the standby gateway's stop costs a takeover (HaNode stops it before the leader's
 * start), with and without its snapshot at shutdown, and what the leader's start on the same data dir then costs.
 *
 *   bun scripts/bench-takeover-stop.ts [--orders N]
 *
 * Trades N marketable orders (default 100,000) through the real runtime on the sim venue, stops that gateway without
 * a shutdown snapshot, then, on two copies of its data dir:
 *   - a standby gateway is started (the whole log replayed: no snapshot) and stopped, once with the shutdown snapshot
 *     (the default) and once without;
 *   - a leader gateway (lease epoch 2) is started on each dir: after the snapshot it replays nothing, without it the
 *     whole log (here no snapshot at all: the worst case; a standby with periodic snapshots replays since the last).
 * Progress on stderr; the last stdout line is one JSON object.
 */

import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Lease } from '../wal/index.ts'
import { Gateway } from '../src/runtime/index.ts'
import { run, standbyOptionsOf, startWorld, traderA } from '../specs/runtime/harness.ts'
import { leaderOptionsOf } from '../specs/runtime/ha/takeover-node.ts'
import { allowSelfTrade, SelfTradeRefusals } from './support/self-trade-allowed.ts'

const { values } = parseArgs({ options: { orders: { type: 'string', default: '100000' } } })
const orders = Number(values.orders)
const log = (line: string): void => void process.stderr.write(`${line}\n`)

// Its buys and sells of acct-a cross each other: the account allows self-trades, and any refusal fails the run.
const world = await startWorld({ seed: 11, configure: allowSelfTrade, snapshots: { atShutdown: false } })
const refusals = new SelfTradeRefusals()
const work = mkdtempSync(join(tmpdir(), 'egress-bench-takeover-'))
try {
  const started = performance.now()
  for (let placed = 0; placed < orders; placed++) {
    const side = placed % 2 === 0 ? 'buy' : 'sell'
    const price = side === 'buy' ? '61000' : '59000'
    refusals.note(await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty: '0.001', price, client_order_id: `t-${placed}` }, null))
    if (placed % 50 === 49) await run(world, 20)
    if (placed % 10_000 === 9_999) log(`placed ${placed + 1} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
  await run(world, 500)
  refusals.assertNone('bench-takeover-stop')
  const hotOrders = world.gateway.engine.state.orders.size
  const records = world.gateway.engine.wal.lastLsn
  log(`state: ${hotOrders} orders hot, ${records} records`)
  await world.gateway.stop()
  const errors: string[] = []
  const measure = async (name: string, atShutdown: boolean): Promise<{ standbyStartMs: number; standbyStopMs: number; leaderStartMs: number }> => {
    const dir = join(work, name)
    cpSync(world.dir, dir, { recursive: true })
    let at = performance.now()
    // The world's config (its accounts allow self-trades), as the leader that wrote the log had it.
    const kernelConfig = world.gateway.options.kernelConfig
    const standby = await Gateway.start({ ...standbyOptionsOf(world, dir, errors), kernelConfig, snapshots: { atShutdown } })
    const standbyStartMs = performance.now() - at
    at = performance.now()
    await standby.stop()
    const standbyStopMs = performance.now() - at
    const leaseDir = join(work, `${name}-lease`)
    Lease.acquire({ dir: leaseDir, holderId: 'old x', ttlMs: 1, clockSkewMsMax: 0 })
    await Bun.sleep(5)
    const lease = Lease.acquire({ dir: leaseDir, holderId: 'new x', ttlMs: 600_000, clockSkewMsMax: 0 })
    at = performance.now()
    const leader = await Gateway.start({ ...leaderOptionsOf(world, dir, errors, lease), kernelConfig, snapshots: { atShutdown: false } })
    const leaderStartMs = performance.now() - at
    await leader.stop()
    lease.release()
    const result = { standbyStartMs: round(standbyStartMs), standbyStopMs: round(standbyStopMs), leaderStartMs: round(leaderStartMs) }
    log(`${name}: ${JSON.stringify(result)}`)
    return result
  }
  const withSnapshot = await measure('with-shutdown-snapshot', true)
  const withoutSnapshot = await measure('without-shutdown-snapshot', false)
  if (errors.length > 0) log(`gateway errors: ${errors.slice(0, 5).join(' | ')}`)
  console.log(JSON.stringify({ bench: 'takeover-stop', orders, hotOrders, records, withSnapshot, withoutSnapshot }))
} finally {
  rmSync(work, { recursive: true, force: true })
  rmSync(world.dir, { recursive: true, force: true })
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
