/**
 * The floor bench:http can measure (BENCH_TARGET=floor): the echo with egress's log behind it and nothing of the
 * gateway between them — no auth, validation, kernel, executor, venue or projections. It bounds what any design
 * built on this log and this HTTP stack can reach on the machine at hand.
 *
 * Each order's body is parsed and re-serialized as a record's payload. The first append is awaited before the 202
 * (egress's ACK boundary: the accepted order is durable); the rest of an order's life in egress is modelled by more
 * appends, each waiting for the one before it and none awaited by the answer, as egress's executor and venue reports
 * append after the ACK. The default shape is egress's for bench:http's IOC orders: 7 records in 4 appends — accepted;
 * the send request; the call's outcome with the venue's ack; the venue's two reports with the order's end.
 */

import { Hono } from 'hono'
import type { RecordInput, Wal } from '../../wal/index.ts'

/** Records per append, in order; the first append is the one the 202 waits for. */
export const EGRESS_IOC_APPEND_SHAPE: readonly number[] = [1, 1, 2, 3]

/** The record type the floor writes (not one of egress's: its logs are not for replay by the gateway). */
const FLOOR_RECORD_TYPE = 0xfe

export interface DurableEchoOptions {
  wal: Wal
  appendShape?: readonly number[]
  /** Told of a failed append after the answer (the answer itself fails with the first append's error). */
  onError?: (error: unknown) => void
}

export function durableEchoApp(options: DurableEchoOptions): Hono {
  const { wal } = options
  const shape = options.appendShape ?? EGRESS_IOC_APPEND_SHAPE
  if (shape.length === 0 || shape.some((count) => !Number.isSafeInteger(count) || count < 1)) {
    throw new RangeError(`append shape must be one or more positive record counts, got [${shape.join(', ')}]`)
  }
  const onError = options.onError ?? ((error: unknown) => console.error('durable echo: append after the answer failed:', error))
  const encoder = new TextEncoder()
  const recordsOf = (count: number, payload: Uint8Array): RecordInput[] => Array.from({ length: count }, () => ({ type: FLOOR_RECORD_TYPE, version: 1, payload }))
  const appendRest = async (payload: Uint8Array): Promise<void> => {
    for (let index = 1; index < shape.length; index++) await wal.append(recordsOf(shape[index] as number, payload))
  }
  const app = new Hono()
  let next = 0
  app.get('/health', (c) => c.json({ status: 'ready', log: { last_lsn: wal.lastLsn, durability: wal.options.durability } }))
  app.post('/v1/orders', async (c) => {
    const body = (await c.req.json()) as { account?: string }
    const payload = encoder.encode(JSON.stringify(body))
    const lsns = await wal.append(recordsOf(shape[0] as number, payload))
    appendRest(payload).catch(onError)
    return c.json({ order_id: `floor-${next++}`, state: 'Enqueued', account: body.account ?? null, lsn: lsns[0] }, 202)
  })
  return app
}
