/**
 * The floor bench:http can measure (BENCH_TARGET=floor): the echo with egress's log behind it and nothing of the
 * gateway between them — no auth, validation, kernel, executor, venue or projections. It bounds what any design
 * built on this log and this HTTP stack can reach on the machine at hand.
 *
 * Each order's body is parsed and re-serialized into every record's payload, padded with spaces (or cut) to the
 * size egress writes for that record. The first append is awaited before the 202 (egress's ACK boundary: the accepted
 * order is durable); the rest of an order's life in egress is modelled by more appends, each waiting for the one
 * before it and none awaited by the answer, as egress's executor and venue reports append after the ACK. The default
 * is egress's for bench:http's IOC orders: 7 records in 5 appends — the accepted order; the send request; the venue's
 * ack and its expiry, each with the inbox's record of the report; the venue call's outcome. What egress writes for
 * those orders is read back from the gateway in specs/scripts/durable-echo-fidelity.test.ts, which fails when these
 * figures no longer match it.
 */

import { Hono } from 'hono'
import * as v from 'valibot'
import type { RecordInput, Wal } from '../../wal/index.ts'

/**
 * Payload bytes of each record, per append, in order; the first append is the one the 202 waits for. egress's for an
 * IOC order of bench:http's, in the compact format (payload version 3; the acceptance version 4, with the trace context egress starts): the accepted order carries its decision
 * record (every guard with its inputs) and the send request the send gate's checks, ~1 KB in all (~2.1 KB in the
 * plain format of version 2: [[1245], [525], [116, 36], [120, 29], [39]]).
 */
export const EGRESS_IOC_RECORDS: readonly (readonly number[])[] = [[641], [113], [108, 36], [108, 29], [33]]

/** One or more appends, each of one or more positive integer payload sizes. */
const RecordsSchema = v.pipe(v.array(v.pipe(v.array(v.pipe(v.number(), v.safeInteger(), v.minValue(1))), v.minLength(1))), v.minLength(1))

/**
 * The floor's records from BENCH_FLOOR_RECORDS (JSON, e.g. `[[400],[100],[116,36,120,29,39]]`): what a log shape other
 * than egress's would cost; EGRESS_IOC_RECORDS when unset. Anything else is refused, naming the setting.
 */
export function floorRecordsFrom(text: string | undefined): readonly (readonly number[])[] {
  if (text === undefined || text === '') return EGRESS_IOC_RECORDS
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new RangeError(`BENCH_FLOOR_RECORDS must be JSON: appends of payload sizes such as [[400],[100,36]], got ${text}`)
  }
  const result = v.safeParse(RecordsSchema, parsed)
  if (!result.success) throw new RangeError(`BENCH_FLOOR_RECORDS must be one or more appends of positive integer payload sizes such as [[400],[100,36]], got ${text}`)
  return result.output
}

/** The record type the floor writes (not one of egress's: its logs are not for replay by the gateway). */
const FLOOR_RECORD_TYPE = 0xfe

export interface DurableEchoOptions {
  wal: Wal
  /** Payload bytes per record, per append (default EGRESS_IOC_RECORDS). */
  records?: readonly (readonly number[])[]
  /** Told of a failed append after the answer (the answer itself fails with the first append's error). */
  onError?: (error: unknown) => void
}

export function durableEchoApp(options: DurableEchoOptions): Hono {
  const { wal } = options
  const shape = options.records ?? EGRESS_IOC_RECORDS
  if (!v.is(RecordsSchema, shape)) {
    throw new RangeError(`records must be one or more appends of positive payload sizes, got ${JSON.stringify(shape)}`)
  }
  const onError = options.onError ?? ((error: unknown) => console.error('durable echo: append after the answer failed:', error))
  const encoder = new TextEncoder()
  const recordsOf = (sizes: readonly number[], body: Uint8Array): RecordInput[] => sizes.map((bytes) => ({ type: FLOOR_RECORD_TYPE, version: 1, payload: paddedTo(body, bytes) }))
  const appendRest = async (body: Uint8Array): Promise<void> => {
    for (let index = 1; index < shape.length; index++) await wal.append(recordsOf(shape[index] as readonly number[], body))
  }
  const app = new Hono()
  let next = 0
  app.get('/health', (c) => c.json({ status: 'ready', log: { last_lsn: wal.lastLsn, durability: wal.options.durability } }))
  app.post('/v1/orders', async (c) => {
    const body = (await c.req.json()) as { account?: string }
    const serialized = encoder.encode(JSON.stringify(body))
    const lsns = await wal.append(recordsOf(shape[0] as readonly number[], serialized))
    appendRest(serialized).catch(onError)
    return c.json({ order_id: `floor-${next++}`, state: 'Enqueued', account: body.account ?? null, lsn: lsns[0] }, 202)
  })
  return app
}

/** `bytes` bytes: the start of `body`, then spaces. */
function paddedTo(body: Uint8Array, bytes: number): Uint8Array {
  const payload = new Uint8Array(bytes)
  payload.set(bytes < body.byteLength ? body.subarray(0, bytes) : body)
  if (bytes > body.byteLength) payload.fill(0x20, body.byteLength)
  return payload
}
