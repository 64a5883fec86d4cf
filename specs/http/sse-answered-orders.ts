/**
 * What the SSE buffer specs share (sse-replay-live-room, sse-replay-resync-room, sse-heartbeat-room,
 * sse-slow-consumer-resume-point): a test gateway started before the file's tests and stopped after them, orders
 * placed and waited for until the venue has answered them (the log then holds all it will for them), and the LSNs of
 * the log's events after a point.
 */

import { afterAll, beforeAll, expect } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { eventually, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

export interface AnsweredOrders {
  readonly t: TestGateway
  readonly token: string
  /** Places an order under `key` and waits until the venue has answered it. */
  placeAnswered(key: string): Promise<void>
  /** The LSNs of the log's events after `fromLsn`, to its end. */
  eventsAfter(fromLsn: number): number[]
}

/** Starts a test gateway (`config` as startTestGateway takes it) in beforeAll, with a trader token of demo-1. */
export function answeredOrders(config?: Parameters<typeof startTestGateway>[0]): AnsweredOrders {
  let t: TestGateway | null = null
  let token = ''
  beforeAll(async () => {
    t = await startTestGateway(config)
    token = await t.token({ accounts: ['demo-1'] })
  })
  afterAll(async () => t?.stop())
  const gateway = (): TestGateway => {
    if (t === null) throw new Error('the test gateway is not started yet (answeredOrders starts it in beforeAll)')
    return t
  }
  return {
    get t() {
      return gateway()
    },
    get token() {
      return token
    },
    async placeAnswered(key) {
      const g = gateway()
      expect((await g.request('/v1/orders', post(token, LIMIT_BUY, { 'Idempotency-Key': key }))).status).toBe(202)
      await eventually(() => [...g.gateway.engine.state.orders.values()].every((order) => !['Validated', 'Enqueued', 'Sent'].includes(order.status)))
      await g.gateway.engine.settled()
    },
    eventsAfter(fromLsn) {
      const wal = gateway().gateway.engine.wal
      const lsns: number[] = []
      for (const frame of wal.read(fromLsn + 1, { toLsn: wal.lastLsn })) if (domainEventOf(frame) !== null) lsns.push(frame.lsn)
      return lsns
    },
  }
}
