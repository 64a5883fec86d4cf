/**
 * `egress sim-venue --config` takes the config's sim entry's order store bounds (ordersMax, endedOrderRetentionMs),
 * as serve's own sim does (specs/cli/serve-sim-instruments.test.ts): gateways on one standalone venue see the bound
 * the operator set, not the sim's defaults (100000 held, ended kept 5 minutes).
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseDecimal, type Units } from '../../src/domain/decimal.ts'
import { SimReason } from '../../src/venues/index.ts'
import { JsonlVenueClient } from '../../src/venues/jsonl/index.ts'
import { startSimVenue } from './sim-venue-process.ts'

const ROOT = resolve(import.meta.dir, '../..')
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

function configFile(venues: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-sim-venue-bounds-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'egress.json')
  writeFileSync(path, JSON.stringify({ venues }))
  return path
}

/** `count` marketable IOC buys (each ends at once, so only the retention keeps it held): how many the venue took, and its refusals by reason. */
async function places(port: number, count: number): Promise<{ ok: number; rejected: Record<string, number> }> {
  const client = await JsonlVenueClient.connect({ venue: 'sim', hostname: '127.0.0.1', port, requestTimeoutMs: 10_000, pendingMax: 256, reconnectMsMax: 100, log: () => {}, connectWaitMs: 10_000 })
  const rejected: Record<string, number> = {}
  let ok = 0
  try {
    for (let start = 0; start < count; start += 200) {
      const batch = Array.from({ length: Math.min(200, count - start) }, (_, offset) => client.place({
        clientOrderId: `bound-${start + offset}`, account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: parseDecimal('0.001') as Units,
        price: parseDecimal('200000') as Units, tif: 'IOC', postOnly: false, reduceOnly: false,
      }))
      for (const outcome of await Promise.all(batch)) {
        if (outcome.kind === 'ok') ok++
        else if (outcome.kind === 'rejected') rejected[outcome.reason] = (rejected[outcome.reason] ?? 0) + 1
        else throw new Error(`the sim answered ${outcome.kind}`)
      }
    }
  } finally {
    client.close()
  }
  return { ok, rejected }
}

test("the config's sim entry's ordersMax reaches the standalone venue: past it, within the retention, a place is rejected venue_order_limit", async () => {
  const { child, port } = await startSimVenue(['--config', configFile([{ type: 'sim', ordersMax: 1_000, endedOrderRetentionMs: 60_000 }])])
  cleanups.push(() => void child.kill('SIGKILL'))
  expect(await places(port, 1_001)).toEqual({ ok: 1_000, rejected: { [SimReason.venueOrderLimit]: 1 } })
}, 30_000)

test('an ordersMax or endedOrderRetentionMs out of bounds is refused naming the field, before the venue listens', async () => {
  for (const entry of [{ type: 'sim', ordersMax: 10 }, { type: 'sim', endedOrderRetentionMs: 1_000 }]) {
    const child = Bun.spawn([process.execPath, 'src/main.ts', 'sim-venue', '--port', '0', '--config', configFile([entry])], { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    cleanups.push(() => void child.kill('SIGKILL'))
    expect(await child.exited).not.toBe(0)
    expect(await new Response(child.stdout).text()).not.toContain('listening on')
    expect(await new Response(child.stderr).text()).toContain(Object.keys(entry)[1]!)
  }
}, 30_000)
