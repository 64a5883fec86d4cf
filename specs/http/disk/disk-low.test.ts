/**
 * A data dir below its free-space floor (config `storage.freeBytesMin`, src/http/disk/): new orders and amends get 503
 * DISK_LOW with Retry-After and nothing is recorded; cancels, flattens, repeats of a decided key and reads pass;
 * /health and /metrics say so; the intake opens again once the space is back. The free space comes from a reader the
 * spec sets (the seam the watch reads statfs through); the watch, the routes and the log are the real ones.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from '../fixture.ts'
import { isTerminal } from '../../../src/domain/states.ts'

const MIB = 1024 * 1024
const FLOOR = 512 * MIB

let t: TestGateway | null = null
afterEach(async () => {
  await t?.stop()
  t = null
})

/** A gateway with a 512 MiB floor whose data dir shows `disk.freeBytes` (or fails with `disk.error`) when read. */
async function gatewayWithDisk(disk: { freeBytes: number; error: Error | null }, floor = FLOOR): Promise<{ t: TestGateway; lines: string[] }> {
  const lines: string[] = []
  t = await startTestGateway({
    config: { storage: { freeBytesMin: floor } },
    readFreeBytes: async () => {
      if (disk.error !== null) throw disk.error
      return disk.freeBytes
    },
    say: (line) => void lines.push(line),
  })
  await t.http.services.disk.refresh()
  return { t, lines }
}

/** /health as a caller without a token sees it, or as `token`'s holder (an ops token sees the error texts). */
async function health(gateway: TestGateway, token?: string): Promise<{ status: number; disk: unknown; ready: unknown }> {
  const res = await gateway.request('/health', token === undefined ? {} : { headers: auth(token) })
  const body = await json(res)
  return { status: res.status, disk: body.disk, ready: body.ready }
}

async function metric(gateway: TestGateway, name: string): Promise<string | undefined> {
  const text = await (await gateway.request('/metrics')).text()
  return new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]
}

describe('DISK_LOW', () => {
  test('below the floor a new order is 503 DISK_LOW and nothing is recorded; cancels, flattens and reads pass; above it again orders pass', async () => {
    const disk = { freeBytes: 2 * FLOOR, error: null }
    const { t, lines } = await gatewayWithDisk(disk)
    const trader = await t.token({ accounts: ['demo-1'] })
    const ops = await t.token({ sub: 'ops-1', roles: ['ops'], accounts: [] })
    const first = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'before-low' }))
    expect(first.status).toBe(202)
    const orderId = (await json(first)).order_id as string

    disk.freeBytes = FLOOR - 1
    await t.http.services.disk.refresh()
    await t.http.services.disk.refresh()
    const lastLsn = t.gateway.engine.wal.lastLsn
    const refused = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'while-low' }))
    expect(refused.status).toBe(503)
    expect(refused.headers.get('Retry-After')).toBe('5')
    const body = await json(refused)
    expect(errorCode(body)).toBe('DISK_LOW')
    expect((body.error as { details: unknown }).details).toEqual({ reason: 'below_floor', free_bytes: FLOOR - 1, free_bytes_min: FLOOR, retry_after_sec: 5 })
    const amend = await t.request(`/v1/orders/${orderId}/amend`, post(trader, { qty: '0.02' }))
    expect([amend.status, errorCode(await json(amend))]).toEqual([503, 'DISK_LOW'])
    expect(t.gateway.engine.wal.lastLsn).toBe(lastLsn)
    expect(t.gateway.engine.state.orders.has('demo-1:while-low')).toBe(false)

    // A repeat of a key decided before writes nothing: it gets its first answer.
    const repeat = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'before-low' }))
    expect([repeat.status, repeat.headers.get('Idempotent-Replayed')]).toEqual([202, 'true'])
    expect((await t.request(`/v1/orders/${orderId}`, { headers: auth(trader) })).status).toBe(200)
    expect((await t.request(`/v1/orders/${orderId}/cancel`, post(trader, {}))).status).toBe(202)
    expect((await t.request('/v1/accounts/demo-1/flatten', post(ops, '', { 'Idempotency-Key': 'f-low' }))).status).toBe(202)

    // Ready stays true (a load balancer must still route cancels here); `disk` says why new orders are refused.
    expect(await health(t)).toEqual({ status: 200, ready: true, disk: { free_bytes: FLOOR - 1, free_bytes_min: FLOOR, new_orders_refused: true, error: null } })
    expect(await metric(t, 'egress_data_dir_free_bytes')).toBe(String(FLOOR - 1))
    expect(await metric(t, 'egress_data_dir_free_bytes_min')).toBe(String(FLOOR))
    expect(await metric(t, 'egress_data_dir_low')).toBe('1')
    expect(await metric(t, 'egress_data_dir_low_total')).toBe('1')
    expect(await metric(t, 'egress_http_errors_total\\{code="DISK_LOW"\\}')).toBe('2')

    disk.freeBytes = FLOOR
    await t.http.services.disk.refresh()
    // The flatten's closes (IOC) end first: one still open would refuse the buy (SELF_TRADE_PREVENTED).
    await eventually(() => [...t.gateway.engine.state.orders.values()].every((order) => order.flattenId === null || isTerminal(order.status)))
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'while-low' }))).status).toBe(202)
    expect((await health(t)).disk).toEqual({ free_bytes: FLOOR, free_bytes_min: FLOOR, new_orders_refused: false, error: null })
    expect(await metric(t, 'egress_data_dir_low')).toBe('0')
    // Edge-triggered: one line when refusing began (two reads below the floor), one when it ended.
    expect(lines).toEqual([
      `the data dir has ${FLOOR - 1} bytes free, below storage.freeBytesMin ${FLOOR}: new orders and amends are refused (DISK_LOW); cancels, flattens and reads pass`,
      `the data dir has ${FLOOR} bytes free, at or above storage.freeBytesMin ${FLOOR}: new orders and amends are accepted again`,
    ])
  })

  test('with a floor, a free space that cannot be read refuses new orders (fail safe) and keeps the last reading shown', async () => {
    const disk: { freeBytes: number; error: Error | null } = { freeBytes: 2 * FLOOR, error: null }
    const { t, lines } = await gatewayWithDisk(disk)
    const trader = await t.token({ accounts: ['demo-1'] })
    disk.error = new Error("ENOENT: no such file or directory, statfs '/gone'")
    await t.http.services.disk.refresh()
    const refused = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'unreadable' }))
    expect(refused.status).toBe(503)
    expect((await json(refused)).error).toMatchObject({ code: 'DISK_LOW', details: { reason: 'unreadable', free_bytes: 2 * FLOOR } })
    const ops = await t.token({ sub: 'oscar', roles: ['ops'], accounts: [] })
    expect((await health(t, ops)).disk).toEqual({ free_bytes: 2 * FLOOR, free_bytes_min: FLOOR, new_orders_refused: true, error: "ENOENT: no such file or directory, statfs '/gone'" })
    // The text names the data dir: a caller without a service reader's token gets the code.
    expect((await health(t)).disk).toEqual({ free_bytes: 2 * FLOOR, free_bytes_min: FLOOR, new_orders_refused: true, error: 'FREE_SPACE_UNREADABLE' })
    expect(await metric(t, 'egress_data_dir_read_failures_total')).toBe('1')

    disk.error = null
    await t.http.services.disk.refresh()
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'unreadable' }))).status).toBe(202)
    expect((await health(t)).disk).toMatchObject({ new_orders_refused: false, error: null })
    expect(lines[0]).toStartWith("cannot read the data dir's free space")
    expect(lines[0]).toEndWith('new orders and amends are refused (DISK_LOW) until a read succeeds')
  })

  test('with a floor, no reading yet refuses new orders (not_read_yet): an HA node serves a new watch at once after a role change', async () => {
    // The service as serve-ha.ts's onGateway builds it at every role change: served at once, nothing waits for the
    // first statfs. Held unanswered here, as a slow or hung mount holds it.
    let answer: (freeBytes: number) => void = () => {}
    const lines: string[] = []
    t = await startTestGateway({
      config: { storage: { freeBytesMin: FLOOR } },
      readFreeBytes: () => new Promise((resolve) => (answer = resolve)),
      say: (line) => void lines.push(line),
    })
    const trader = await t.token({ accounts: ['demo-1'] })
    const lastLsn = t.gateway.engine.wal.lastLsn
    const refused = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'unread' }))
    expect(refused.status).toBe(503)
    expect((await json(refused)).error).toMatchObject({ code: 'DISK_LOW', details: { reason: 'not_read_yet', free_bytes: null, free_bytes_min: FLOOR } })
    expect(t.gateway.engine.wal.lastLsn).toBe(lastLsn)
    expect((await health(t)).disk).toEqual({ free_bytes: null, free_bytes_min: FLOOR, new_orders_refused: true, error: null })

    // The first reading above the floor opens the intake; the not-read state was no refusal begun, nor one that ended.
    answer(2 * FLOOR)
    await t.http.services.disk.refresh()
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'unread' }))).status).toBe(202)
    expect(await metric(t, 'egress_data_dir_low_total')).toBe('0')
    expect(lines).toEqual([])
  })

  test('without a floor nothing is refused: a full or unreadable disk is only shown', async () => {
    const disk: { freeBytes: number; error: Error | null } = { freeBytes: 0, error: null }
    const { t } = await gatewayWithDisk(disk, 0)
    const trader = await t.token({ accounts: ['demo-1'] })
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'no-floor-1' }))).status).toBe(202)
    disk.error = new Error('EIO: i/o error, statfs')
    await t.http.services.disk.refresh()
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'no-floor-2' }))).status).toBe(202)
    const admin = await t.token({ sub: 'ada', roles: ['admin'], accounts: [] })
    expect((await health(t, admin)).disk).toEqual({ free_bytes: 0, free_bytes_min: 0, new_orders_refused: false, error: 'EIO: i/o error, statfs' })
  })
})
