/**
 * Payload format benchmark: the compact binary format (version 3, written since 2026-11-22) against the plain one it
 * replaced (version 2, still read in older logs), on the events of a real run, in one process.
 *
 *   bun scripts/bench-payload-format.ts [--orders N] [--rounds R]
 *
 * Trades N orders (default 6,000: IOC limits 1% through the reference on the sim venue, as bench:http sends them)
 * through the real runtime and keeps every event. Writes each event in both formats with writers compiled the same
 * way (binary-writer.ts over each format's layout) and checks that both read back as the event. Then, R rounds
 * (alternating which format goes first), per format: bytes per order, and CPU time per order to
 *   - encode every event (the engine, per command),
 *   - decode it for restart replay into the kernel (trusted, without the members apply never reads),
 *   - decode it whole on the trusted path (the back office's fold, the audit self-check),
 *   - decode and validate it (replay-verify, the order events endpoint).
 * Each step starts after a full collection. Medians over the rounds, and compact ÷ plain. Progress on stderr; the last line of stdout is one JSON object.
 */

import { parseArgs } from 'node:util'
import { recordLayoutOf, type BinaryFormat } from '../src/domain/events/binary-layout.ts'
import { compileRecordWriter, type RecordWriter } from '../src/domain/events/binary-writer.ts'
import { decodeEvent, EVENT_CODES, EVENT_SCHEMAS, type DomainEvent, type EncodedEvent, type EventType } from '../src/domain/events/index.ts'
import type { SchemaLike } from '../src/domain/events/json-plan.ts'
import { decodeTrustedEvent, unreadMembers, type UnreadMembers } from '../src/domain/events/trusted-decode.ts'
import { APPLY_UNREAD_MEMBERS } from '../src/kernel/apply-unread.ts'
import { crashWorld, startWorld } from '../specs/runtime/harness.ts'
import { median } from './support/figures.ts'
import { tradeBatch } from './support/trade-batch.ts'
import { allowSelfTrade } from './support/self-trade-allowed.ts'

const log = (line: string): void => void process.stderr.write(`${line}\n`)
const { values } = parseArgs({ options: { orders: { type: 'string', default: '6000' }, rounds: { type: 'string', default: '15' } } })
const ORDERS = positive('orders', values.orders)
const ROUNDS = positive('rounds', values.rounds)

const FORMATS = { plain: 2, compact: 3 } as const satisfies Record<BinaryFormat, number>
const TYPES = Object.keys(EVENT_SCHEMAS) as EventType[]
const WRITERS = Object.fromEntries(
  (Object.keys(FORMATS) as BinaryFormat[]).map((format) => [
    format,
    new Map<EventType, RecordWriter>(TYPES.map((name) => [name, compileRecordWriter(recordLayoutOf(EVENT_SCHEMAS[name] as SchemaLike, format), name)])),
  ]),
) as Record<BinaryFormat, Map<EventType, RecordWriter>>
const APPLY_UNREAD = new Map<number, UnreadMembers>([...APPLY_UNREAD_MEMBERS].map(([name, paths]) => [EVENT_CODES[name], unreadMembers(paths)]))

function encodeIn(format: BinaryFormat, event: DomainEvent): EncodedEvent {
  const write = WRITERS[format].get(event.type) as RecordWriter
  return { type: EVENT_CODES[event.type], version: FORMATS[format], payload: write(event) }
}

const world = await startWorld({
  seed: 11,
  wal: { durability: 'none', preallocateBytes: 0 },
  // tradeBatch's buys and sells of one account cross each other: its accounts allow self-trades.
  configure: allowSelfTrade,
  venueOptions: { latencyMsMin: 0, latencyMsMax: 1, ordersMax: Math.max(100_000, ORDERS * 2) },
  params: { lane1DepthMax: 100_000, lane2DepthMax: 100_000, accountQueuedMax: 100_000 },
})
const events: DomainEvent[] = []
world.gateway.engine.onDurable((applied) => {
  for (const { event } of applied) events.push(event)
})
for (let offset = 0; offset < ORDERS; offset += 500) await tradeBatch(world, offset, Math.min(500, ORDERS - offset), { clientOrderIdPrefix: 'e-', tif: 'IOC' })
await crashWorld(world)
const orders = events.filter((event) => event.type === 'order.accepted').length
log(`${events.length} events, ${orders} accepted orders`)

const records = { plain: events.map((event) => encodeIn('plain', event)), compact: events.map((event) => encodeIn('compact', event)) }
for (const format of Object.keys(FORMATS) as BinaryFormat[]) {
  for (const [index, record] of records[format].entries()) {
    const event = events[index] as DomainEvent
    if (!Bun.deepEquals(decodeEvent(record), decodeTrustedEvent(record)) || !Bun.deepEquals(decodeTrustedEvent(record), decodeEvent(records.compact[index] as EncodedEvent))) {
      throw new Error(`event ${index} (${event.type}) does not read back the same in the ${format} format`)
    }
  }
}
log('every event reads back the same in both formats, by both decoders')

const cpuUs = (): number => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

const STEPS = {
  encode: (format: BinaryFormat): void => {
    for (const event of events) encodeIn(format, event)
  },
  replayDecode: (format: BinaryFormat): void => {
    for (const record of records[format]) decodeTrustedEvent(record, APPLY_UNREAD.get(record.type))
  },
  trustedDecode: (format: BinaryFormat): void => {
    for (const record of records[format]) decodeTrustedEvent(record)
  },
  validatingDecode: (format: BinaryFormat): void => {
    for (const record of records[format]) decodeEvent(record)
  },
} as const
type Step = keyof typeof STEPS

const samples = Object.fromEntries(Object.keys(STEPS).map((step) => [step, { plain: [] as number[], compact: [] as number[] }])) as Record<Step, Record<BinaryFormat, number[]>>
for (let round = 0; round < ROUNDS; round++) {
  const order: BinaryFormat[] = round % 2 === 0 ? ['plain', 'compact'] : ['compact', 'plain']
  for (const step of Object.keys(STEPS) as Step[]) {
    for (const format of order) {
      // A full collection first: each step's garbage is collected before the next is timed, not during it.
      Bun.gc(true)
      const started = cpuUs()
      STEPS[step](format)
      samples[step][format].push((cpuUs() - started) / orders)
    }
  }
  log(`round ${round + 1}/${ROUNDS} µs/order plain → compact: ${(Object.keys(STEPS) as Step[]).map((step) => `${step} ${last(samples[step].plain)} → ${last(samples[step].compact)}`).join(', ')}`)
}

const bytesPerOrder = (format: BinaryFormat): number => Math.round(records[format].reduce((sum, record) => sum + record.payload.length, 0) / orders)
const figures: Record<string, number> = {}
for (const step of Object.keys(STEPS) as Step[]) {
  const plain = median(samples[step].plain)
  const compact = median(samples[step].compact)
  figures[`${step}PlainUsPerOrder`] = round3(plain)
  figures[`${step}CompactUsPerOrder`] = round3(compact)
  figures[`${step}CompactVsPlain`] = round3(compact / plain)
}
console.log(
  JSON.stringify({
    bench: 'payload-format',
    events: events.length,
    orders,
    rounds: ROUNDS,
    plainBytesPerOrder: bytesPerOrder('plain'),
    compactBytesPerOrder: bytesPerOrder('compact'),
    bytesCompactVsPlain: round3(bytesPerOrder('compact') / bytesPerOrder('plain')),
    ...figures,
  }),
)

function last(values: readonly number[]): string {
  return (values.at(-1) ?? 0).toFixed(2)
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000
}

function positive(name: string, text: string | undefined): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 1) {
    process.stderr.write(`--${name} needs a positive integer, got ${String(text)}\n`)
    process.exit(2)
  }
  return value
}
