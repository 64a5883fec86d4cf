/**
 * `egress sim-venue` models reduce_only (src/venues/sim/reduce-only.ts), which counts what an account holds at the
 * venue: its trades plus its deposits. serve hands its own sim the paper fundings as deposits; the standalone venue
 * had none, so a gateway on it (`--venue jsonl://…`) had every reduce-only sell of a funded asset refused — a
 * flatten's closing orders included. It now takes the gateways' accounts from `--config FILE` (or the file
 * `EGRESS_CONFIG` names; default: the built-in demo accounts').
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseDecimal, type Units } from '../../src/domain/decimal.ts'
import { JsonlVenueClient } from '../../src/venues/jsonl/index.ts'
import { startSimVenue } from './sim-venue-process.ts'

const ROOT = resolve(import.meta.dir, '../..')
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

async function startSimVenueWith(extra: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const { child, port } = await startSimVenue(extra, [], env)
  cleanups.push(() => void child.kill('SIGKILL'))
  return port
}

async function reduceOnlySell(port: number, account: string): Promise<string> {
  const client = await JsonlVenueClient.connect({ venue: 'sim', hostname: '127.0.0.1', port, requestTimeoutMs: 5_000, pendingMax: 10, reconnectMsMax: 100, log: () => {}, connectWaitMs: 10_000 })
  try {
    const outcome = await client.place({
      clientOrderId: `ro-${account}`, account, symbol: 'BTC-USD', side: 'sell', type: 'limit', qty: parseDecimal('1') as Units, price: parseDecimal('90000') as Units,
      tif: 'GTC', postOnly: false, reduceOnly: true,
    })
    return outcome.kind === 'rejected' ? `rejected: ${outcome.reason}` : outcome.kind
  } finally {
    client.close()
  }
}

test('without --config the demo accounts\' fundings are deposits: demo-1 may sell its BTC reduce-only; an account with nothing may not', async () => {
  const port = await startSimVenueWith([])
  expect(await reduceOnlySell(port, 'demo-1')).toBe('ok')
  expect(await reduceOnlySell(port, 'nobody')).toContain('reduce_only_would_increase')
}, 30_000)

test('with --config the config\'s accounts are the deposits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-sim-venue-deposits-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const configPath = join(dir, 'egress.json')
  writeFileSync(configPath, JSON.stringify({ accounts: [{ id: 'desk-7', venue: 'sim', balances: { USD: '1000', BTC: '2' } }] }))
  const port = await startSimVenueWith(['--config', configPath])
  expect(await reduceOnlySell(port, 'desk-7')).toBe('ok')
  expect(await reduceOnlySell(port, 'demo-1')).toContain('reduce_only_would_increase')
}, 30_000)

test('without --config the file EGRESS_CONFIG names is the config, as for every command; the overrides are not read', async () => {
  // Before, sim-venue read no environment at all: started in the gateways' shell, it traded the demo accounts.
  const dir = mkdtempSync(join(tmpdir(), 'egress-sim-venue-deposits-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const configPath = join(dir, 'egress.json')
  writeFileSync(configPath, JSON.stringify({ accounts: [{ id: 'desk-7', venue: 'sim', balances: { USD: '1000', BTC: '2' } }] }))
  // An override the gateways take (a port) is theirs, not the venue's: it listens where --port says (0: any).
  const port = await startSimVenueWith([], { ...process.env, EGRESS_CONFIG: configPath, PORT: 'not-a-port' })
  expect(await reduceOnlySell(port, 'desk-7')).toBe('ok')
  expect(await reduceOnlySell(port, 'demo-1')).toContain('reduce_only_would_increase')
}, 30_000)

test('a bad --config is refused naming the field, before the venue listens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-sim-venue-deposits-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const configPath = join(dir, 'egress.json')
  writeFileSync(configPath, JSON.stringify({ accounts: [{ id: 'desk-7', venue: 'sim', balances: { BTC: 'lots' } }] }))
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'sim-venue', '--port', '0', '--config', configPath], { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  cleanups.push(() => void child.kill('SIGKILL'))
  expect(await child.exited).not.toBe(0)
  expect(await new Response(child.stdout).text()).not.toContain('listening on')
  expect(await new Response(child.stderr).text()).toContain('accounts')
}, 30_000)
