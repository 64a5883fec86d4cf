/**
 * `egress serve` (no HA) on a data dir an HA node left mid-swap: keeping a diverged log's shared part, or a snapshot
 * recovery, moves `log/` aside before the new one takes its place (src/runtime/ha/dir-swap.ts). HaNode finishes such a
 * swap before every gateway start; plain serve did not, so `Wal.open` found no `log/`, created an empty one, and the
 * gateway started from nothing: every order egress held forgotten, open ones included. serve now finishes it first.
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import { keepCommonPrefix, PrefixKeepingHalted } from '../../src/runtime/ha/index.ts'

const TRADER: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }
const RESTING = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC' }

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function start(dataDir: string, lines: string[]): Promise<{ served: ServeGateway; clock: StoppableClock }> {
  const clock = new StoppableClock()
  const config = parseConfig({ dataDir, wal: { durability: 'none' }, auth: { hs256Secret: 'x'.repeat(32) }, backoffice: { reconcileIntervalMs: 86_400_000 } })
  const served = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, onError: (error) => { throw error }, log: (line) => void lines.push(line) })
  return { served, clock }
}

async function stop({ served, clock }: { served: ServeGateway; clock: StoppableClock }): Promise<void> {
  await served.stop()
  clock.cancelAll()
}

test('serve finishes a swap an HA node committed but did not finish, and starts on the kept log, not an empty one', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'egress-interrupted-swap-'))
  dirs.push(dataDir)
  const first = await start(dataDir, [])
  const orderIds: string[] = []
  for (let index = 0; index < 3; index++) {
    const placed = await first.served.gateway.place(TRADER, RESTING, `rest-${index}`)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    orderIds.push(placed.reply.orderId)
  }
  const { gateway: firstGateway } = first.served
  for (let waitedMs = 0; !orderIds.every((orderId) => firstGateway.engine.state.orders.get(orderId)?.status === 'AckedOpen'); waitedMs += 5) {
    if (waitedMs > 5_000) throw new Error('the orders were not acknowledged')
    await Bun.sleep(5)
  }
  await stop(first)
  const keptLsn = firstGateway.engine.wal.lastLsn
  // A crash right after the old log went aside, the commit written: the kept log waits in log.prefix.
  expect(() => keepCommonPrefix(dataDir, keptLsn, { haltAfter: (step) => step === 'log_moved_aside' })).toThrow(PrefixKeepingHalted)
  expect(existsSync(join(dataDir, 'log'))).toBe(false)

  const lines: string[] = []
  const second = await start(dataDir, lines)
  try {
    expect(lines.some((line) => line.includes("interrupted keeping of a diverged log's shared part finished"))).toBe(true)
    const { gateway } = second.served
    // Every order is still held: the log replayed is the kept one (bootstrap may add records after it).
    for (const orderId of orderIds) expect(gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    expect(gateway.engine.wal.lastLsn).toBeGreaterThanOrEqual(keptLsn)
  } finally {
    await stop(second)
  }
})
