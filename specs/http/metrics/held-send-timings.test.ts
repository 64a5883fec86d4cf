/**
 * egress_order_sent_to_venue_ack_seconds times the venue: first send → the venue's ack. A place the executor answered
 * retryable on the venue's behalf, the venue never called — held at the call by a kill switch or a mode change
 * (src/runtime/call-holds.ts), or by the HA send gate — does not start that clock: it starts at the next send
 * (order-timings.ts). Timed from the held send, a flatten's close held by CANCEL_ONLY until RESUME was a venue ack as
 * long as the switch (ten minutes here), pointing the runbook's "slow venue" at a venue that answered in milliseconds.
 * A venue's own retryable answer (it throttled) is still the venue's time. Accept → first send still times the first
 * send record.
 */

import { expect, test } from 'bun:test'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import type { SendGateVerdict } from '../../../src/runtime/engine.ts'
import { opsUser, run, startWorld, worldsStoppedAfterEach } from '../../runtime/harness.ts'
import { event, sample } from './observed.ts'

const worlds = worldsStoppedAfterEach()

const retry = (orderId: string, atMs: number, venueReason: string) => event('order.send_retry', orderId, atMs, { action: 'place', venueReason, retryAtMs: atMs + 1_000 })

test('a flatten close held by CANCEL_ONLY is timed from its send at RESUME, not from the send the switch held', async () => {
  const world = await startWorld({ seed: 11 })
  worlds.push(world)
  const metrics = new GatewayMetrics()
  metrics.attach(world.gateway, { inFlight: () => 0 })
  // The closes' send records wait (as for a slow disk or the HA standby) while CANCEL_ONLY is engaged.
  const waiting: ((verdict: SendGateVerdict) => void)[] = []
  let holding = true
  world.gateway.engine.placeSendGate = () => (holding ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve({ send: true }))
  expect((await world.gateway.flatten(opsUser, 'acct-a', 'held-closes')).reply.kind).toBe('done')
  for (let step = 0; step < 1_000 && waiting.length < 3; step++) await world.clock.advanceAsync(5)
  expect(waiting).toHaveLength(3)
  expect((await world.gateway.killSwitch(opsUser, 'CANCEL_ONLY', 'spec')).reply.kind).toBe('done')
  holding = false
  for (const release of waiting.splice(0)) release({ send: true })
  await run(world, 2_000)
  expect(world.gateway.executor.stats).toMatchObject({ callsHeld: 3, sends: 0 })
  await run(world, 600_000, 1_000)
  expect((await world.gateway.killSwitch(opsUser, 'RESUME', 'spec')).reply.kind).toBe('done')
  await run(world, 2_000)
  expect(world.gateway.executor.stats.sends).toBe(3)
  expect(sample(metrics, 'egress_order_sent_to_venue_ack_seconds_count')).toBe(3)
  // The sim venue acks within its latency: every sample well under a second, none of the switch's ten minutes.
  expect(sample(metrics, 'egress_order_sent_to_venue_ack_seconds_bucket', { le: '1' })).toBe(3)
  expect(sample(metrics, 'egress_order_accept_to_sent_seconds_count')).toBe(3)
  metrics.detach()
  expect(world.errors).toEqual([])
})

test('held by the HA send gate or a mode change: timed from the next send; a venue that throttled: from the first', () => {
  const metrics = new GatewayMetrics()
  metrics.observe([
    event('order.accepted', 'ha', 1_000),
    event('order.send_requested', 'ha', 1_001),
    retry('ha', 1_005, 'HA_STANDBY_UNCONFIRMED: the standby did not confirm the send record at LSN 9 (durable to 8, lagging)'),
    event('order.send_requested', 'ha', 6_000),
    event('order.send_acked', 'ha', 6_010),
    event('order.accepted', 'mode', 1_000),
    event('order.send_requested', 'mode', 1_002),
    retry('mode', 1_005, 'MODE_CHANGED: decided in live, the mode is paper now; not called'),
    event('order.send_requested', 'mode', 9_000),
    event('order.send_acked', 'mode', 9_030),
    event('order.accepted', 'throttled', 1_000),
    event('order.send_requested', 'throttled', 1_001),
    retry('throttled', 1_100, 'rate limited'),
    event('order.send_requested', 'throttled', 2_100),
    event('order.send_acked', 'throttled', 2_201),
  ])
  expect(sample(metrics, 'egress_order_sent_to_venue_ack_seconds_count')).toBe(3)
  expect(sample(metrics, 'egress_order_sent_to_venue_ack_seconds_sum')).toBeCloseTo(0.01 + 0.03 + 1.2, 9)
  // Accept → first send: once per order, from its first send record, held or not.
  expect(sample(metrics, 'egress_order_accept_to_sent_seconds_count')).toBe(3)
  expect(sample(metrics, 'egress_order_accept_to_sent_seconds_sum')).toBeCloseTo(0.001 + 0.002 + 0.001, 9)
})
