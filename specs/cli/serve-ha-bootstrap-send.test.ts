/**
 * `egress serve` as an HA node sends, during its own bootstrap, what it accepted and never sent. Bootstrap runs while
 * the node takes the lease and is not yet `leader` (`promoting`), and the I-100 gate's `ha_leader` fact was read as
 * "leader": every place the executor decided then — an order answered 202 whose venue call never went out, and
 * bootstrap's resends of orders the venue proved it never received — was blocked, which is final for a place. The
 * order ended Rejected (GATE_BLOCKED) and never reached the venue, though its client holds a 202.
 *
 * Found by a kill -9 probe of one node with an external venue: of ~1,500 acknowledged orders, two in flight at a kill
 * ended Rejected after their resend was blocked with "this node is not the HA leader". Reproduced here without timing:
 * the venue is down when the order is accepted (its sends are retried, it stays Enqueued), the node is killed, the
 * venue and then the node are started again.
 */

import { afterEach, expect, test } from 'bun:test'
import { Cluster, waitFor } from '../runtime/ha/cluster.ts'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.stop()
  cluster?.remove()
  cluster = null
})

interface LoggedEvent {
  type: string
  reason?: string
  gate?: { checks: { check: string; pass: boolean }[] }
}

test('an order accepted and never sent before a kill -9 is sent by the restarted node, not blocked as "not the HA leader"', async () => {
  // A lease long enough that a busy machine does not let it lapse while the order is placed (a restart waits it out).
  cluster = new Cluster({ leaseTtlMs: 2_000, clockSkewMs: 50, sync: 'off', syncTimeoutMs: 1_000, verbose: false, log: () => {} })
  const running = cluster
  await running.startVenue()
  const node = await running.addNode('solo')
  running.spawn(node)
  await waitFor('the node leading', 30_000, () => node.isReadyLeader(), () => node.stderr.slice(-10).join('\n'))

  await running.killVenue()
  // A buy below the market (it rests once sent), within the price band of the last reference price.
  const placed = await fetch(`${node.url}/v1/orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${running.trader}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'sent-at-bootstrap' },
    body: JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '58000' }),
  })
  const answer = (await placed.json()) as { order_id: string }
  expect(placed.status, JSON.stringify(answer) + node.stderr.join('\n')).toBe(202)
  const orderId = answer.order_id
  // Its sends fail while the venue is down: retried, the order stays Enqueued.
  await waitFor('a failed send', 10_000, async () => (await eventsOf(running, node.url, orderId)).some((event) => event.type === 'order.send_retry'))
  expect(await running.orderStatus(node, orderId)).toBe('Enqueued')

  node.child?.kill('SIGKILL')
  await node.child?.exited
  await running.restartVenue()
  running.spawn(node)
  await waitFor('the node leading again', 30_000, () => node.isReadyLeader(), () => node.stderr.slice(-10).join('\n'))
  const status = await waitFor('the order sent', 10_000, async () => {
    const now = await running.orderStatus(node, orderId)
    // Sent is on the way: a node taking the lead holds its places until it leads (Executor.holdPlaceSends).
    return now !== null && now !== 'Enqueued' && now !== 'Sent' ? now : null
  })

  const events = await eventsOf(running, node.url, orderId)
  const blocked = events.filter((event) => event.type === 'order.send_blocked').map((event) => ({ reason: event.reason, failed: failedChecks(event) }))
  expect(blocked).toEqual([])
  expect(status).toBe('AckedOpen')
  const venue = (await running.venue?.inspect()) as { clientOrderIds: string[] }
  expect(venue.clientOrderIds).toContain(`eg-${orderId}`)
}, 90_000)

async function eventsOf(running: Cluster, url: string, orderId: string): Promise<LoggedEvent[]> {
  const response = await fetch(`${url}/v1/orders/${orderId}/events`, { headers: { Authorization: `Bearer ${running.trader}` }, signal: AbortSignal.timeout(2_000) })
  if (response.status !== 200) throw new Error(`GET /v1/orders/${orderId}/events: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { events: LoggedEvent[] }).events
}

function failedChecks(event: LoggedEvent): string[] {
  return (event.gate?.checks ?? []).filter((check) => !check.pass && check.check !== 'mode_live_explicit').map((check) => check.check)
}
