/**
 * A kill switch engaged, or the mode changed, after a place or amend was decided, its call not yet made (its send
 * record waiting for the disk or, here, the HA standby: Engine.placeSendGate), holds that call: HALT, CANCEL_ONLY or a
 * change of mode answered means nothing decided before it reaches the venue after it (src/runtime/call-holds.ts). The
 * call is answered as a venue that did nothing would be, and the kernel settles it as things stand: the place is read
 * back with its cancel wanted and ends not at the venue, the amend fails (the order stands), a close CANCEL_ONLY holds
 * goes at RESUME.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import type { SendGateVerdict } from '../../src/runtime/engine.ts'
import { LIMIT_BUY, SECRET } from '../http/fixture.ts'
import { waitFor } from './ha/support.ts'

const TRADER = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
const OPS = { id: 'ops-1', roles: ['ops' as const], accounts: [], liveAllowed: false }
const ADMIN = { id: 'admin-1', roles: ['admin' as const], accounts: [], liveAllowed: false }

const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** A gateway whose place/amend calls wait at the send gate while `holding` is set, until the spec lets them go. */
async function start(): Promise<{ served: ServeGateway; waiting: Array<(verdict: SendGateVerdict) => void>; hold: (on: boolean) => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-held-at-call-'))
  closers.push(() => rmSync(dir, { recursive: true, force: true }))
  const waiting: Array<(verdict: SendGateVerdict) => void> = []
  let holding = true
  const config = parseConfig({
    dataDir: dir,
    wal: { durability: 'none' },
    auth: { hs256Secret: SECRET },
    kernel: { reconcileGraceMs: 100 },
    accounts: [{ id: 'demo-1', balances: { USD: '1000000', BTC: '10' } }],
  })
  const served = await startServeGateway(config, {
    clock: new StoppableClock(),
    buildCommit: 'spec',
    wal: { preallocateBytes: 0 },
    onError: () => {},
    beforeBootstrap: (engine) => {
      engine.placeSendGate = () => (holding ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve({ send: true }))
    },
  })
  closers.push(() => served.gateway.stop())
  return { served, waiting, hold: (on) => void (holding = on) }
}

/** Every durable event of the gateway's, as `type` or `type:reason`. */
function recorded(served: ServeGateway): string[] {
  const seen: string[] = []
  served.gateway.engine.onDurable((applied) => {
    for (const { event } of applied) seen.push('reason' in event ? `${event.type}:${String(event.reason)}` : event.type)
  })
  return seen
}

describe('a kill switch engaged after the send was decided', () => {
  test('HALT: the place is not called; read back with its cancel wanted, it ends not at the venue', async () => {
    const { served, waiting } = await start()
    const seen = recorded(served)
    const placed = await served.gateway.place(TRADER, { ...LIMIT_BUY, client_order_id: 'decided' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error('not accepted')
    const orderId = placed.reply.orderId
    await waitFor(() => waiting.length === 1, 2_000, 'the place waits at the send gate')
    expect(served.gateway.engine.state.orders.get(orderId)?.status).toBe('Sent')
    expect((await served.gateway.killSwitch(OPS, 'HALT', 'spec')).reply.kind).toBe('done')
    waiting[0]!({ send: true })
    await waitFor(() => served.gateway.executor.stats.callsHeld === 1, 2_000, 'held by the switch')
    const order = served.gateway.engine.state.orders.get(orderId)
    expect(order?.status).toBe('Unknown')
    expect(order?.cancelWanted).toBe(true)
    await waitFor(() => ['Canceled', 'Failed'].includes(served.gateway.engine.state.orders.get(orderId)?.status ?? ''), 3_000, 'read back and ended')
    expect(served.venue.inspect().requests.calls.place).toBe(0)
    expect(served.gateway.executor.stats.sends).toBe(0)
    expect(served.venue.inspect().orders).toHaveLength(0)
    expect(seen).toContain('order.cancel_requested:KILL_SWITCH_HALT')
    expect(seen).not.toContain('order.send_acked')
  })

  test('CANCEL_ONLY: the amend is not called; it fails and the order stands at its old terms', async () => {
    const { served, waiting, hold } = await start()
    const seen = recorded(served)
    hold(false)
    const placed = await served.gateway.place(TRADER, { ...LIMIT_BUY, client_order_id: 'resting' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error('not accepted')
    const orderId = placed.reply.orderId
    await waitFor(() => served.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen', 2_000, 'resting')
    hold(true)
    const standing = served.gateway.engine.state.orders.get(orderId)!.qty
    const amended = await served.gateway.amend(TRADER, orderId, { qty: standing * 2n, price: null })
    expect(amended.reply.kind).toBe('amend_accepted')
    await waitFor(() => waiting.length === 1, 2_000, 'the amend waits at the send gate')
    expect((await served.gateway.killSwitch(OPS, 'CANCEL_ONLY', 'spec')).reply.kind).toBe('done')
    waiting[0]!({ send: true })
    await waitFor(() => served.gateway.engine.state.orders.get(orderId)?.amend?.stage === 'failed', 2_000, 'the amend failed')
    expect(served.venue.inspect().requests.calls.amend).toBe(0)
    expect(served.gateway.executor.stats.callsHeld).toBe(1)
    const order = served.gateway.engine.state.orders.get(orderId)
    expect(order?.status).toBe('AckedOpen')
    expect(order?.qty).toBe(standing)
    expect(seen).toContain('order.amend_failed:KILL_SWITCH_CANCEL_ONLY')
  })

  test('a place decided and let through with no switch engaged is called as before', async () => {
    const { served, waiting } = await start()
    const placed = await served.gateway.place(TRADER, { ...LIMIT_BUY, client_order_id: 'normal' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error('not accepted')
    await waitFor(() => waiting.length === 1, 2_000, 'the place waits at the send gate')
    waiting[0]!({ send: true })
    await waitFor(() => served.venue.inspect().requests.calls.place === 1, 2_000, 'called')
    expect(served.gateway.executor.stats.sends).toBe(1)
  })
})

describe('flatten closes decided before the switch', () => {
  test('CANCEL_ONLY holds the close (not called) and RESUME sends it once; while the switch holds it, not at all', async () => {
    const { served, waiting, hold } = await start()
    await waitFor(() => served.gateway.engine.state.instruments.size > 0, 2_000, 'instruments')
    expect((await served.gateway.flatten(OPS, 'demo-1', 'spec-flatten')).reply.kind).toBe('done')
    await waitFor(() => waiting.length === 1, 2_000, 'the close waits at the send gate')
    expect((await served.gateway.killSwitch(OPS, 'CANCEL_ONLY', 'spec')).reply.kind).toBe('done')
    hold(false)
    waiting[0]!({ send: true })
    await waitFor(() => served.gateway.executor.stats.callsHeld === 1, 2_000, 'held by the switch')
    await Bun.sleep(100)
    expect(served.venue.inspect().requests.calls.place).toBe(0)
    expect((await served.gateway.killSwitch(OPS, 'RESUME', 'spec')).reply.kind).toBe('done')
    await waitFor(() => served.venue.inspect().requests.calls.place === 1, 3_000, 'sent at RESUME')
    await Bun.sleep(100)
    expect(served.venue.inspect().requests.calls.place).toBe(1)
  })
})

describe('a mode change after the send was decided', () => {
  for (const mode of ['shadow', 'live'] as const) {
    test(`paper → ${mode}: the place decided in paper is not called; read back, it ends not at the venue`, async () => {
      const { served, waiting } = await start()
      const placed = await served.gateway.place(TRADER, { ...LIMIT_BUY, client_order_id: `before-${mode}` }, null)
      if (placed.reply.kind !== 'accepted') throw new Error('not accepted')
      const orderId = placed.reply.orderId
      await waitFor(() => waiting.length === 1, 2_000, 'the place waits at the send gate')
      expect((await served.gateway.setMode(ADMIN, mode, 'spec')).reply.kind).toBe('done')
      waiting[0]!({ send: true })
      await waitFor(() => served.gateway.executor.stats.callsHeld === 1, 2_000, 'held at the call')
      await waitFor(() => ['Canceled', 'Failed', 'Rejected'].includes(served.gateway.engine.state.orders.get(orderId)?.status ?? ''), 3_000, 'ended')
      expect(served.venue.inspect().requests.calls.place).toBe(0)
      expect(served.venue.inspect().orders).toHaveLength(0)
    })
  }
})
