/**
 * The HA send gate (SyncReplication.untilReplicated, leader-sync.ts, Engine.placeSendGate, the executor's held calls):
 * a venue place is never called before the standby's durable LSN covers its send record — not when the 202s' waiter
 * table is full, not after a wait timed out, not while the standby is gone (fail_closed), and not during bootstrap.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../src/config/index.ts'
import { startServeGateway, type ServeGateway } from '../../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../../src/cli/stoppable-clock.ts'
import type { SendGateVerdict } from '../../../src/runtime/engine.ts'
import { SyncReplication, type SyncPolicy } from '../../../src/runtime/ha/index.ts'
import { LIMIT_BUY, SECRET } from '../../http/fixture.ts'
import { waitFor } from './support.ts'

/** The leadership term's epoch the acknowledgements name. */
const EPOCH = 1

function syncOf(policy: SyncPolicy, options: { timeoutMs?: number; waitersMax?: number; leaderLsn?: () => number } = {}): SyncReplication {
  return new SyncReplication({
    policy,
    epoch: EPOCH,
    timeoutMs: options.timeoutMs ?? 60_000,
    waitersMax: options.waitersMax ?? 2,
    leaderLastLsn: options.leaderLsn ?? (() => 100),
    nowMs: () => Date.now(),
    onTransition: () => {},
  })
}

/** Resolves to the promise's value, or 'pending' if it has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, Bun.sleep(ms).then(() => 'pending' as const)])
}

const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

describe('the send gate (untilReplicated)', () => {
  test('a full 202 waiter table does not let a send through: it waits in its own table until the standby holds it', async () => {
    let leaderLsn = 10
    const sync = syncOf('fail_closed', { waitersMax: 2, leaderLsn: () => leaderLsn })
    closers.push(() => sync.close())
    sync.acknowledge(10, EPOCH)
    expect(sync.state).toBe('sync')
    // Two 202s wait for LSNs 11, 12 (the standby is healthy, just not there yet): the 202 table is full.
    const first = sync.wait(11)
    const second = sync.wait(12)
    expect(await sync.wait(13)).toBe('timeout') // a third 202 is still refused by the cap
    leaderLsn = 13
    const gate = sync.untilReplicated(13)
    expect(await within(gate, 50)).toBe('pending')
    expect(sync.sendsWaiting).toBe(1)
    expect(sync.waiting).toBe(2)
    sync.acknowledge(12, EPOCH)
    expect(await first).toBe('replicated')
    expect(await second).toBe('replicated')
    expect(await within(gate, 20)).toBe('pending')
    sync.acknowledge(13, EPOCH)
    expect(await gate).toBe('send')
    expect(sync.standbyDurableLsn).toBeGreaterThanOrEqual(13)
  })

  test('fail_closed: a send the standby does not confirm within the timeout is held, and held at once while it is down', async () => {
    const sync = syncOf('fail_closed', { timeoutMs: 50 })
    closers.push(() => sync.close())
    expect(await sync.untilReplicated(5)).toBe('hold') // no standby yet
    sync.acknowledge(100, EPOCH)
    expect(sync.state).toBe('sync')
    const started = Date.now()
    expect(await sync.untilReplicated(101)).toBe('hold')
    expect(Date.now() - started).toBeGreaterThanOrEqual(45)
    expect(sync.state).toBe('down')
    const again = Date.now()
    expect(await sync.untilReplicated(102)).toBe('hold')
    expect(Date.now() - again).toBeLessThan(40)
    // Covered already: sent without waiting, whatever the state.
    expect(await sync.untilReplicated(100)).toBe('send')
  })

  test('degrade_async: a send goes out once degraded (the degraded state is on record); closed: never', async () => {
    const sync = syncOf('degrade_async', { timeoutMs: 50 })
    expect(await sync.untilReplicated(5)).toBe('send')
    sync.acknowledge(100, EPOCH)
    expect(await sync.untilReplicated(101)).toBe('send') // after the timeout, degraded
    expect(sync.state).toBe('down')
    const closing = syncOf('fail_closed')
    closing.acknowledge(100, EPOCH)
    const waiting = closing.untilReplicated(101)
    closing.close()
    expect(await waiting).toBe('closed')
    expect(await closing.untilReplicated(100)).toBe('closed')
    sync.close()
  })
})

describe('the send gate in a gateway', () => {
  function config(dir: string) {
    return parseConfig({ dataDir: dir, wal: { durability: 'none' }, auth: { hs256Secret: SECRET }, accounts: [{ id: 'demo-1', balances: { USD: '1000000', BTC: '10' } }] })
  }

  async function start(dir: string, beforeBootstrap?: (engine: ServeGateway['gateway']['engine']) => void): Promise<ServeGateway> {
    const errors: string[] = []
    const served = await startServeGateway(config(dir), {
      clock: new StoppableClock(),
      buildCommit: 'spec',
      wal: { preallocateBytes: 0 },
      onError: (error, context) => void errors.push(`${context}: ${String(error)}`),
      ...(beforeBootstrap === undefined ? {} : { beforeBootstrap }),
    })
    return served
  }

  test('a held place is recorded as a send retry and never reaches the venue; it goes out once the gate lets it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-send-gate-'))
    closers.push(() => rmSync(dir, { recursive: true, force: true }))
    let verdict: SendGateVerdict = { send: false, reason: 'HA_STANDBY_UNCONFIRMED: spec', retryAfterMs: 20 }
    const served = await start(dir, (engine) => {
      engine.placeSendGate = () => Promise.resolve(verdict)
    })
    closers.push(() => served.gateway.stop())
    const principal = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
    const placed = await served.gateway.place(principal, { ...LIMIT_BUY, client_order_id: 'held' }, null)
    expect(placed.reply.kind).toBe('accepted')
    await waitFor(() => served.gateway.executor.stats.gateHolds >= 2, 2_000, 'held twice')
    expect(served.venue.inspect().requests.calls.place).toBe(0)
    const order = [...served.gateway.engine.state.orders.values()][0]
    expect(order?.status).toBe('Enqueued')
    verdict = { send: true }
    await waitFor(() => served.venue.inspect().requests.calls.place === 1, 2_000, 'placed once the gate lets it')
    await Bun.sleep(50)
    expect(served.venue.inspect().requests.calls.place).toBe(1)
  })

  test('bootstrap: the gate is installed before the executor starts, so a send at start is gated too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-send-gate-'))
    closers.push(() => rmSync(dir, { recursive: true, force: true }))
    // First run: an accepted order whose place is held (a send retry in the log, due soon), then a clean stop.
    const first = await start(dir, (engine) => {
      engine.placeSendGate = () => Promise.resolve({ send: false, reason: 'HA_STANDBY_UNCONFIRMED: spec', retryAfterMs: 30 })
    })
    const principal = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
    expect((await first.gateway.place(principal, { ...LIMIT_BUY, client_order_id: 'at-start' }, null)).reply.kind).toBe('accepted')
    await waitFor(() => first.gateway.executor.stats.gateHolds >= 1, 2_000, 'held')
    await first.gateway.stop()
    expect(first.venue.inspect().requests.calls.place).toBe(0)
    await Bun.sleep(60)
    // Second run: the order is due at start; the executor bootstrap starts must consult the gate before any call.
    const gated: number[] = []
    const second = await start(dir, (engine) => {
      engine.placeSendGate = (lsn) => {
        gated.push(lsn)
        return Promise.resolve({ send: false, reason: 'HA_STANDBY_UNCONFIRMED: spec', retryAfterMs: 60_000 })
      }
    })
    closers.push(() => second.gateway.stop())
    await waitFor(() => gated.length >= 1, 2_000, 'the gate consulted at start')
    await Bun.sleep(50)
    expect(second.venue.inspect().requests.calls.place).toBe(0)
    expect(second.gateway.executor.stats.sends).toBe(0)
  })
})
