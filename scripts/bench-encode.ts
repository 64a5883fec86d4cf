/**
 * Payload encoding benchmark: encodeEvent (writers compiled per record type, JSON parts written in place) against the
 * interpreted writer it replaced (specs/domain/events/interpreted-writer.ts, with the old encodeEvent's copy of the
 * event without `type`), on the events of a real run, in one process.
 *
 *   bun scripts/bench-encode.ts [--orders N] [--rounds R]
 *
 * Trades N orders (default 6,000: IOC limits 1% through the reference on the sim venue, as the HTTP bench sends them)
 * through the real runtime and keeps every event as the kernel decided it (engine.onDurable: the objects themselves,
 * members in the order the kernel built them). Checks that both writers give the same bytes for every event, then, R
 * rounds (alternating which writer goes first), encodes the mix with each writer two ways: hot (windows of 16 events
 * encoded 4 times: the engine encodes events it has just built, in cache) and cold (one pass over the whole mix, out
 * of cache); medians of CPU time per event.
 * Progress on stderr; the last line of stdout is one JSON object.
 */

import { recordLayoutOf, type BinaryFormat, type LayoutField } from '../src/domain/events/binary-layout.ts'
import { encodeEvent, EVENT_CODES, EVENT_SCHEMAS, EVENT_VERSIONS, type DomainEvent, type EncodedEvent, type EventType } from '../src/domain/events/index.ts'
import type { SchemaLike } from '../src/domain/events/json-plan.ts'
import { binaryFormatOf } from '../src/domain/events/registry.ts'
import { writeRecordInterpreted } from '../specs/domain/events/interpreted-writer.ts'
import { crashWorld, startWorld } from '../specs/runtime/harness.ts'
import { tradeBatch } from './support/trade-batch.ts'
import { allowSelfTrade } from './support/self-trade-allowed.ts'

const log = (line: string): void => void process.stderr.write(`${line}\n`)
const args = parseArgs(process.argv.slice(2))
const LAYOUTS = new Map<string, readonly LayoutField[]>(
  (Object.keys(EVENT_SCHEMAS) as EventType[]).map((name) => [name, recordLayoutOf(EVENT_SCHEMAS[name] as SchemaLike, binaryFormatOf(EVENT_VERSIONS[name]) as BinaryFormat)]),
)

/** The encoder before the compiled writers, as codec.ts had it. */
function encodeInterpreted(event: DomainEvent): EncodedEvent {
  const { type, ...body } = event
  return { type: EVENT_CODES[type], version: EVENT_VERSIONS[type], payload: writeRecordInterpreted(LAYOUTS.get(type) as readonly LayoutField[], body, type) }
}

const world = await startWorld({
  seed: 11,
  wal: { durability: 'none', preallocateBytes: 0 },
  // tradeBatch's buys and sells of one account cross each other: its accounts allow self-trades.
  configure: allowSelfTrade,
  venueOptions: { latencyMsMin: 0, latencyMsMax: 1, ordersMax: Math.max(100_000, args.orders * 2) },
  params: { lane1DepthMax: 100_000, lane2DepthMax: 100_000, accountQueuedMax: 100_000 },
})
const events: DomainEvent[] = []
world.gateway.engine.onDurable((applied) => {
  for (const { event } of applied) events.push(event)
})
for (let offset = 0; offset < args.orders; offset += 500) await tradeBatch(world, offset, Math.min(500, args.orders - offset), { clientOrderIdPrefix: 'e-', tif: 'IOC' })
await crashWorld(world)
const orders = events.filter((event) => event.type === 'order.accepted').length
const mix: Record<string, number> = {}
for (const event of events) mix[event.type] = (mix[event.type] ?? 0) + 1
log(`${events.length} events, ${orders} accepted orders: ${JSON.stringify(mix)}`)

for (const [index, event] of events.entries()) {
  const expected = Buffer.from(encodeInterpreted(event).payload)
  if (!expected.equals(encodeEvent(event).payload)) throw new Error(`event ${index} (${event.type}): payloads differ`)
}
log('every payload identical')

const cpuUs = (): number => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}
const WRITERS = { interpreted: encodeInterpreted, compiled: encodeEvent } as const
type WriterName = keyof typeof WRITERS
/**
 * Two ways over the mix, per writer: `hot`, windows of 16 events (about two orders) encoded 4 times each, as the engine
 * encodes events it has just built (in cache); `cold`, one pass over the whole mix, every event out of cache.
 */
const HOT_WINDOW_EVENTS = 16
const HOT_PASSES = 4
const samples = { hot: { interpreted: [] as number[], compiled: [] as number[] }, cold: { interpreted: [] as number[], compiled: [] as number[] } }
let bytes = 0
for (let round = 0; round < args.rounds; round++) {
  const order: WriterName[] = round % 2 === 0 ? ['interpreted', 'compiled'] : ['compiled', 'interpreted']
  for (const name of order) {
    const encode = WRITERS[name]
    let started = cpuUs()
    for (let at = 0; at < events.length; at += HOT_WINDOW_EVENTS) {
      const end = Math.min(events.length, at + HOT_WINDOW_EVENTS)
      for (let pass = 0; pass < HOT_PASSES; pass++) for (let index = at; index < end; index++) bytes += encode(events[index] as DomainEvent).payload.length
    }
    samples.hot[name].push((cpuUs() - started) / events.length / HOT_PASSES)
    started = cpuUs()
    for (const event of events) bytes += encode(event).payload.length
    samples.cold[name].push((cpuUs() - started) / events.length)
  }
  const last = (values: number[]): string => (values.at(-1) ?? 0).toFixed(3)
  log(`round ${round + 1}/${args.rounds} us/event: hot ${last(samples.hot.interpreted)} → ${last(samples.hot.compiled)}, cold ${last(samples.cold.interpreted)} → ${last(samples.cold.compiled)}`)
}
const eventsPerOrder = events.length / orders
const figures = (way: 'hot' | 'cold'): Record<string, number> => {
  const interpreted = median(samples[way].interpreted)
  const compiled = median(samples[way].compiled)
  return {
    [`${way}InterpretedUsPerEvent`]: round(interpreted),
    [`${way}CompiledUsPerEvent`]: round(compiled),
    [`${way}InterpretedUsPerOrder`]: round(interpreted * eventsPerOrder),
    [`${way}CompiledUsPerOrder`]: round(compiled * eventsPerOrder),
    [`${way}Speedup`]: round(interpreted / compiled),
  }
}
console.log(
  JSON.stringify({
    bench: 'encode',
    events: events.length,
    orders,
    eventsPerOrder: round(eventsPerOrder),
    payloadBytesPerEvent: round(bytes / events.length / args.rounds / 2 / (HOT_PASSES + 1)),
    ...figures('hot'),
    ...figures('cold'),
  }),
)

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}

function parseArgs(argv: string[]): { orders: number; rounds: number } {
  const options = { orders: 6000, rounds: 15 }
  for (let index = 0; index < argv.length; index += 2) {
    const [flag, value] = [argv[index], Number(argv[index + 1])]
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${flag} needs a positive integer, got ${argv[index + 1]}`)
    if (flag === '--orders') options.orders = value
    else if (flag === '--rounds') options.rounds = value
    else throw new Error(`unknown option ${flag}; use --orders N --rounds R`)
  }
  return options
}
