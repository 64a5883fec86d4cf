/** The order → log positions index: the newest records indexed at start, the rest in the background, never a partial story. */

import { afterAll, describe, expect, test } from 'bun:test'
import { ApiError } from '../../src/http/errors.ts'
import { LogIndex } from '../../src/http/log-index.ts'
import { crashWorld, removeDir } from '../runtime/harness.ts'
import { tradedWorld } from '../runtime/snapshot/support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

describe('LogIndex', () => {
  test('indexes the newest records at once and the older ones in the background; history reads wait for it with 503', async () => {
    const world = await tradedWorld(21, 40)
    dirs.push(world.dir)
    await world.gateway.engine.settled()
    const engine = world.gateway.engine
    expect(engine.wal.lastLsn).toBeGreaterThan(100)
    const full = LogIndex.build(engine)
    expect(full.complete).toBe(true)
    const orderIds = [...engine.state.idempotency.values()].map((entry) => entry.orderId)
    const bounded = LogIndex.build(engine, { syncFramesMax: 30, backgroundFramesPerSlice: 7 })
    expect(bounded.complete).toBe(false)
    let refusal: unknown = null
    try {
      bounded.events(orderIds[0] as string)
    } catch (error) {
      refusal = error
    }
    expect(refusal).toBeInstanceOf(ApiError)
    expect((refusal as ApiError).status).toBe(503)
    expect((refusal as ApiError).headers['Retry-After']).toBe('1')
    await bounded.whenComplete()
    expect(bounded.complete).toBe(true)
    for (const orderId of orderIds) {
      expect(bounded.events(orderId).map((item) => item.lsn)).toEqual(full.events(orderId).map((item) => item.lsn))
      expect(bounded.intakeRecord(orderId)?.lsn).toBe(full.intakeRecord(orderId)?.lsn as number)
    }
    full.close()
    bounded.close()
    await crashWorld(world)
  })

  test('records made durable while the background part runs are kept after it, in LSN order', async () => {
    const world = await tradedWorld(22, 30)
    dirs.push(world.dir)
    await world.gateway.engine.settled()
    const engine = world.gateway.engine
    const bounded = LogIndex.build(engine, { syncFramesMax: 20, backgroundFramesPerSlice: 5 })
    const orderId = [...engine.state.orders.values()].find((order) => order.status === 'AckedOpen')?.orderId
    expect(orderId).toBeDefined()
    const principal = engine.state.orders.get(orderId as string)?.accountId === 'acct-b'
      ? { id: 'bob', roles: ['trader'], accounts: ['acct-b'], liveAllowed: false }
      : { id: 'alice', roles: ['trader'], accounts: ['acct-a'], liveAllowed: false }
    await world.gateway.cancel(principal as never, orderId as string)
    await bounded.whenComplete()
    const lsns = bounded.events(orderId as string).map((item) => item.lsn)
    expect(lsns).toEqual([...lsns].sort((a, b) => a - b))
    const full = LogIndex.build(engine)
    expect(lsns).toEqual(full.events(orderId as string).map((item) => item.lsn))
    expect(bounded.events(orderId as string).map((item) => item.event.type)).toContain('order.cancel_requested')
    expect(lsns.at(-1)).toBeGreaterThan(engine.wal.lastLsn - 10)
    full.close()
    bounded.close()
    await crashWorld(world)
  })
})
