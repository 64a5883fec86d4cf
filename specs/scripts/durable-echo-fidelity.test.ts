/**
 * bench:http's floor stands for egress's log behind an echo, so what it writes per order must be what egress writes
 * for bench:http's orders: the same records, grouped in the same appends, of about the same payload sizes. This
 * places bench:http's own orders (its bodies, accounts, token claims and idempotency keys) through the gateway `egress
 * serve` assembles and reads each order's records back from the log. When egress's records change, this fails and
 * says what EGRESS_IOC_RECORDS should now hold.
 */

import { afterEach, expect, test } from 'bun:test'
import { EGRESS_IOC_RECORDS } from '../../scripts/support/durable-echo-app.ts'
import { BENCH_ACCOUNTS, benchOrderBody, benchServeConfig } from '../../scripts/support/bench-load.ts'
import { orderIdOfRecord } from '../../src/domain/events/index.ts'
import { eventTypeForCode } from '../../src/domain/events/registry.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { startTestGateway, type TestGateway } from '../http/fixture.ts'

/**
 * The records of one IOC order, in the order EGRESS_IOC_RECORDS lists them: the ACK's append; the executor's send;
 * then, in three appends whose order and grouping race, the venue's ack and its expiry (each report with the inbox's
 * record of it) and the venue call's outcome — seen as [report, ack] [report, expiry] [outcome] or as [outcome, ack]
 * [report] [report, expiry].
 */
const IOC_RECORD_TYPES = [
  'order.accepted',
  'order.send_requested',
  'inbox.report_accepted',
  'order.send_acked',
  'inbox.report_accepted',
  'order.expired',
  'order.call_completed',
]

/** Payload sizes vary with ids, times and decimals; the floor's may differ from any one order's by this share. */
const SIZE_TOLERANCE = 0.1

let started: TestGateway | null = null
afterEach(async () => {
  await started?.stop()
  started = null
})

test("the floor's records per order are egress's for bench:http's orders: types, appends and payload sizes", async () => {
  const { accounts, backpressure } = benchServeConfig({ dataDir: '', port: 0 }) as { accounts: unknown; backpressure: unknown }
  const gateway = await startTestGateway({ config: { accounts, backpressure } })
  started = gateway
  // bench:http's token's claims (the fixture verifies its own secret, not the bench's: the claims are what is logged).
  const headers = { Authorization: `Bearer ${await gateway.token({ sub: 'bench', roles: ['trader'], accounts: BENCH_ACCOUNTS })}`, 'Content-Type': 'application/json' }
  // Every append the engine makes, by the order its records belong to.
  const wal = gateway.gateway.engine.wal
  const appendsByOrder = new Map<string, { type: string; bytes: number }[][]>()
  const appendOwn = wal.appendOwn.bind(wal)
  wal.appendOwn = (append) => {
    const { records } = append
    const orderId = records.map((record) => orderIdOfRecord(record)).find((id) => id !== null)
    if (orderId !== undefined && orderId !== null) {
      const appends = appendsByOrder.get(orderId) ?? []
      appends.push(records.map((record) => ({ type: eventTypeForCode(record.type) ?? String(record.type), bytes: record.payload.byteLength })))
      appendsByOrder.set(orderId, appends)
    }
    appendOwn(append)
  }
  const orderIds: string[] = []
  // One order per sim symbol, each from its own account, keyed as bench:http keys them.
  for (let index = 0; index < 3; index++) {
    const response = await gateway.request('/v1/orders', { method: 'POST', headers: { ...headers, 'Idempotency-Key': `b-${100_000 + index}-${index}` }, body: benchOrderBody(index) })
    expect(response.status).toBe(202)
    orderIds.push(((await response.json()) as { order_id: string }).order_id)
  }
  const ended = (orderId: string): boolean => {
    const order = gateway.gateway.engine.state.orders.get(orderId)
    return order !== undefined && isTerminal(order.status) && gateway.gateway.engine.pending === 0
  }
  for (let attempt = 0; attempt < 400 && !orderIds.every(ended); attempt++) await Bun.sleep(5)
  expect(orderIds.every(ended)).toBe(true)

  expect(EGRESS_IOC_RECORDS.flat().length).toBe(IOC_RECORD_TYPES.length)
  const floorBytes = EGRESS_IOC_RECORDS.flat().sort((a, b) => a - b)
  for (const orderId of orderIds) {
    const appends = appendsByOrder.get(orderId) ?? []
    const types = appends.map((append) => append.map((record) => record.type))
    expect(appends.length).toBe(EGRESS_IOC_RECORDS.length)
    expect(types.slice(0, 2)).toEqual([['order.accepted'], ['order.send_requested']])
    expect(types.flat().sort()).toEqual([...IOC_RECORD_TYPES].sort())
    // Sizes compared smallest to smallest: the racing appends group the same records differently.
    const bytes = appends.flat().map((record) => record.bytes).sort((a, b) => a - b)
    const outside = bytes.filter((size, index) => Math.abs(size - (floorBytes[index] as number)) > SIZE_TOLERANCE * (floorBytes[index] as number))
    if (outside.length > 0) console.error(`egress wrote payloads of ${JSON.stringify(appends.map((append) => append.map((record) => record.bytes)))} bytes for order ${orderId}; the floor writes ${JSON.stringify(EGRESS_IOC_RECORDS)}`)
    expect(outside).toEqual([])
  }
})
