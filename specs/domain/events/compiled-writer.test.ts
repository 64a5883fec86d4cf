/**
 * The compiled payload writers (binary-writer.ts, json-part-writer.ts) against the interpreted writer they replaced
 * (interpreted-writer.ts, kept as the reference): for every record type, seeded random bodies give the same bytes, and
 * bodies with values that do not fit their layout the same error (class and message) — a lone surrogate, a non-finite
 * number, an amount beyond 20 integer digits, a wrong type anywhere, a JSON part canonicalJson refuses.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { recordLayoutOf, type BinaryFormat, type LayoutField } from '../../../src/domain/events/binary-layout.ts'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../../src/domain/events/index.ts'
import type { SchemaLike } from '../../../src/domain/events/json-plan.ts'
import { SLAB_BYTES } from '../../../src/domain/events/payload-writer.ts'
import { binaryFormatOf, EVENT_VERSIONS } from '../../../src/domain/events/registry.ts'
import { EVENT_SCHEMAS } from '../../../src/domain/events/schemas.ts'
import type { EventType } from '../../../src/domain/events/types.ts'
import { isAuditRecord } from '../../../src/runtime/records.ts'
import { crashWorld, removeDir } from '../../runtime/harness.ts'
import { tradedWorld } from '../../runtime/snapshot/support.ts'
import { prng } from '../../wal/support.ts'
import { writeRecordInterpreted } from './interpreted-writer.ts'
import { randomBody, randomJson, randomValue, rejectedBodyWith, type Random } from './random-bodies.ts'

const TYPES = Object.keys(EVENT_SCHEMAS) as EventType[]
/** Each type's layout at its current version, the one encodeEvent writes. */
const LAYOUTS = new Map<EventType, readonly LayoutField[]>(
  TYPES.map((name) => [name, recordLayoutOf(EVENT_SCHEMAS[name] as SchemaLike, binaryFormatOf(EVENT_VERSIONS[name]) as BinaryFormat)]),
)

type Outcome = { bytes: string } | { error: string }

function outcomeOf(write: () => Uint8Array): Outcome {
  try {
    return { bytes: Buffer.from(write()).toString('hex') }
  } catch (error) {
    return { error: error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error) }
  }
}

/** The reference: the interpreted writer over the body without `type`, as encodeEvent called it. */
function referenceOutcome(name: EventType, body: Record<string, unknown>): Outcome {
  return outcomeOf(() => writeRecordInterpreted(LAYOUTS.get(name) as readonly LayoutField[], body, name))
}

function compiledOutcome(name: EventType, body: Record<string, unknown>): Outcome {
  return outcomeOf(() => encodeEvent({ type: name, ...body } as unknown as DomainEvent).payload)
}

/** Every type, `perType` bodies each; answers how many of them were refused. */
function compareRandomBodies(seed: number, perType: number, wrongRate: number): { bodies: number; refused: number } {
  const random: Random = prng(seed)
  let refused = 0
  for (const name of TYPES) {
    const fields = LAYOUTS.get(name) as readonly LayoutField[]
    for (let index = 0; index < perType; index++) {
      const body = randomBody(random, fields, wrongRate)
      const expected = referenceOutcome(name, body)
      const actual = compiledOutcome(name, body)
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        throw new Error(`seed ${seed}, ${name} body ${index}: compiled ${JSON.stringify(actual).slice(0, 400)}\nreference ${JSON.stringify(expected).slice(0, 400)}`)
      }
      if ('error' in expected) refused++
    }
  }
  return { bodies: TYPES.length * perType, refused }
}

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

describe('compiled payload writers', () => {
  test('every record of a varied run (fills, rests, cancels, amends, rejects) is written as the interpreted writer writes it', async () => {
    const world = await tradedWorld(3, 40)
    dirs.push(world.dir)
    await world.gateway.engine.settled()
    let compared = 0
    for (const frame of world.gateway.engine.wal.read(1)) {
      if (isAuditRecord(frame.type) || frame.type >= 0xd000) continue
      const { type, ...body } = decodeEvent({ type: frame.type, version: frame.version, payload: frame.payload.slice() })
      const expected = referenceOutcome(type, body)
      expect(compiledOutcome(type, body)).toEqual(expected)
      expect(expected).toEqual({ bytes: Buffer.from(frame.payload).toString('hex') })
      compared++
    }
    await crashWorld(world)
    expect(compared).toBeGreaterThan(200)
  })

  test('random bodies of every record type are written byte for byte as the interpreted writer writes them (seeded)', () => {
    const { bodies, refused } = compareRandomBodies(20261121, 300, 0)
    expect(bodies).toBe(TYPES.length * 300)
    expect(refused).toBe(0)
  })

  test('bodies with values that do not fit their layout are refused with the interpreted writer\'s error, or written alike (seeded)', () => {
    const { bodies, refused } = compareRandomBodies(7, 300, 0.04)
    // Enough of both outcomes that the comparison means something.
    expect(refused).toBeGreaterThan(bodies / 10)
    expect(refused).toBeLessThan(bodies * 0.9)
  })

  test('free-form JSON parts (the kernel config\'s) are the canonical JSON the interpreted writer wrote, whatever the key order (seeded)', () => {
    const random = prng(424242)
    const configured = (part: unknown): Record<string, unknown> => ({
      atMs: 1,
      config: {
        digest: 'd',
        instruments: [],
        policies: [],
        params: {
          accountQueuedMax: part,
          callsPerInstrumentMax: 1,
          lane1DepthMax: 1,
          lane2DepthMax: 1,
          reconcileGraceMs: 1,
          reconcileRecheckMs: 1,
          referenceJumpBps: 1,
          referenceStaleMs: 1,
          sendRetryMs: 1,
          takerFeeBps: 1,
          terminalOrderRetireAfterMs: 1,
          terminalOrdersKeptMax: 1,
        },
      },
    })
    let written = 0
    for (let index = 0; index < 5000; index++) {
      const body = configured(randomJson(random))
      const expected = referenceOutcome('kernel.configured', body)
      expect(compiledOutcome('kernel.configured', body)).toEqual(expected)
      if ('bytes' in expected) written++
    }
    expect(written).toBeGreaterThan(4000)
  })

  test('records of scalars (a guard\'s inputs) are written as the interpreted writer writes them, whatever the key order (seeded)', () => {
    const random = prng(5150)
    const guardLayout = { kind: 'scalars' } as const
    let written = 0
    for (let index = 0; index < 5000; index++) {
      const inputs = randomValue(random, guardLayout, index % 10 === 0 ? 0.5 : 0) as Record<string, unknown>
      // The same members in another insertion order: the same bytes.
      const shuffled = typeof inputs === 'object' && inputs !== null && !Array.isArray(inputs) && !Object.keys(inputs).includes('__proto__') ? Object.fromEntries(Object.entries(inputs).reverse()) : inputs
      const expected = referenceOutcome('order.rejected', rejectedBodyWith(inputs))
      expect(compiledOutcome('order.rejected', rejectedBodyWith(inputs))).toEqual(expected)
      expect(compiledOutcome('order.rejected', rejectedBodyWith(shuffled))).toEqual(expected)
      if ('bytes' in expected) written++
    }
    expect(written).toBeGreaterThan(4000)
  })

  test('an object of 128 bytes or more gets a longer varint length prefix, its members moved up behind it', () => {
    for (const length of [120, 121, 122, 123, 124, 125, 126, 127, 128, 16_370, 16_380, 16_390, 40_000]) {
      const inputs = { note: 'x'.repeat(length) }
      const body = rejectedBodyWith(inputs)
      const expected = referenceOutcome('order.rejected', body)
      expect('bytes' in expected).toBe(true)
      expect(compiledOutcome('order.rejected', body)).toEqual(expected)
    }
  })

  test('payloads stay as written while later records are written, refused or not, across slabs and records larger than a slab', () => {
    const random = prng(99)
    const kept: { payload: Uint8Array; hex: string }[] = []
    for (let index = 0; index < 4000; index++) {
      const large = index % 500 === 7
      const name = large ? 'mode.changed' : (TYPES[index % TYPES.length] as EventType)
      const body = randomBody(random, LAYOUTS.get(name) as readonly LayoutField[], index % 3 === 0 ? 0.05 : 0)
      if (large) body.note = 'x'.repeat(SLAB_BYTES + 1000)
      const expected = referenceOutcome(name, body)
      let payload: Uint8Array | null = null
      try {
        payload = encodeEvent({ type: name, ...body } as unknown as DomainEvent).payload
      } catch {
        // refused: compared with the reference's error in the specs above
      }
      if (payload !== null && 'bytes' in expected) kept.push({ payload, hex: expected.bytes })
    }
    expect(kept.length).toBeGreaterThan(2000)
    for (const { payload, hex } of kept) expect(Buffer.from(payload).toString('hex')).toBe(hex)
    // After a record larger than a slab, small payloads are in a slab of the usual size again.
    for (const { payload } of kept.slice(-50)) if (payload.length < 1000) expect(payload.buffer.byteLength).toBe(SLAB_BYTES)
  })

  test('a refused record leaves nothing behind: the next record is written whole', () => {
    const good: DomainEvent = { type: 'order.send_acked', atMs: 1, orderId: 'o', venueOrderId: 'v' }
    const before = encodeEvent(good).payload
    expect(() => encodeEvent({ ...good, venueOrderId: 'v-\uD800' })).toThrow(/lone surrogate/)
    expect(() => encodeEvent({ ...good, atMs: Number.NaN })).toThrow('order.send_acked: member atMs must be a finite number, got number')
    expect(encodeEvent(good).payload).toEqual(before)
  })
})
