/**
 * The binary payload layouts (version 3, compact, and version 2, plain, of older logs): round trips, damaged payloads,
 * the order-id prefix, encode-time checks, the forms only the writer makes.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { AssertionError } from '../../../src/domain/assert.ts'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, orderIdOfRecord, recordBodyOf, SchemaError, type DomainEvent, type EncodedEvent } from '../../../src/domain/events/index.ts'
import { decodeTrustedEvent, unreadMembers } from '../../../src/domain/events/trusted-decode.ts'
import { recordLayoutOf } from '../../../src/domain/events/binary-layout.ts'
import { schemaAtVersion } from '../../../src/domain/events/binary-records.ts'
import { EVENT_VERSIONS, MEMBERS_ADDED } from '../../../src/domain/events/registry.ts'
import { writeRecordInterpreted } from './interpreted-writer.ts'
import { isAuditRecord } from '../../../src/runtime/records.ts'
import { crashWorld, removeDir } from '../../runtime/harness.ts'
import { tradedWorld } from '../../runtime/snapshot/support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** Every domain event record of a varied run (fills, rests, cancels, amends, rejects), copied out of the log. */
async function recordsOfRun(): Promise<EncodedEvent[]> {
  const world = await tradedWorld(5, 40)
  dirs.push(world.dir)
  await world.gateway.engine.settled()
  const records: EncodedEvent[] = []
  for (const frame of world.gateway.engine.wal.read(1)) {
    if (!isAuditRecord(frame.type) && frame.type < 0xd000) records.push({ type: frame.type, version: frame.version, payload: frame.payload.slice() })
  }
  await crashWorld(world)
  return records
}

/**
 * `event` as a build before payload version 8 recorded it: a kernel.configured without terminalOrdersHeldMax (nor,
 * as every build before version 9, a policy's selfTrade, nor, before version 10, the idempotency key window); and, as
 * every build before version 11, an order.fill without its venueCumQty.
 */
function withoutHeldCap(event: DomainEvent): DomainEvent {
  if (event.type !== 'kernel.configured') return withoutLaterMembers(event)
  const { terminalOrdersHeldMax: _, idempotencyKeyHeldMs: _window, idempotencyKeysHeldMax: _cap, ...params } = event.config.params
  const policies = event.config.policies.map(({ selfTrade: _setting, ...policy }) => policy)
  return { ...event, config: { ...event.config, params, policies } }
}

/** `event` without the top-level members its type gained after version 2 (MEMBERS_ADDED), which version 2 has no room for. */
function withoutLaterMembers(event: DomainEvent): DomainEvent {
  const added = Object.keys(MEMBERS_ADDED[event.type] ?? {}).filter((member) => !member.includes('.'))
  return Object.fromEntries(Object.entries(event).filter(([key]) => !added.includes(key))) as unknown as DomainEvent
}

/** What a decoder does with `record`: its event, or the error's class name — anything but SchemaError fails the spec. */
function outcomeOf(decode: (record: EncodedEvent) => DomainEvent, record: EncodedEvent): 'ok' | 'refused' {
  try {
    decode(record)
    return 'ok'
  } catch (error) {
    if (error instanceof SchemaError) return 'refused'
    throw new Error(`expected a SchemaError, got ${String(error)} for type ${record.type} payload ${Buffer.from(record.payload).toString('hex')}`)
  }
}

describe('binary payloads', () => {
  test('every record of a run: written in the current version of its type (3, 4 for those with a trace context, 6 for order.rejected, 10 for kernel.configured, 11 for order.accepted and order.fill, 12 for the records attributed with a config digest and build), decoded back to what was written, its order id readable without decoding', async () => {
    const records = await recordsOfRun()
    expect(records.length).toBeGreaterThan(200)
    for (const record of records) {
      const event = decodeEvent(record)
      expect(record.version).toBe(EVENT_VERSIONS[event.type])
      expect([3, 4, 6, 10, 11, 12]).toContain(record.version)
      expect(encodeEvent(event).payload).toEqual(record.payload) // same event, same bytes
      const orderId = (event as { orderId?: string | null }).orderId
      expect(orderIdOfRecord(record)).toBe(typeof orderId === 'string' ? orderId : null)
      expect(recordBodyOf(record)).toEqual(JSON.parse(JSON.stringify(recordBodyOf(record)))) // JSON form: no bigint
    }
  })

  test('every record of a run as version 2 wrote it (an older log) reads as the same event, by both decoders, with its order id', async () => {
    const records = await recordsOfRun()
    let plainBytes = 0
    let compactBytes = 0
    for (const record of records) {
      const { type, ...body } = decodeEvent(record)
      const plain: EncodedEvent = { type: record.type, version: 2, payload: writeRecordInterpreted(recordLayoutOf(schemaAtVersion(type, 2), 'plain'), body, type) }
      // Version 2 has no room for the cap on ended orders held (kernel.configured, version 8), a policy's selfTrade
      // (version 9) nor a fill's venueCumQty (version 11): they read back absent.
      const event = withoutHeldCap(decodeEvent(record))
      expect(decodeEvent(plain)).toEqual(event)
      expect(decodeTrustedEvent(plain)).toEqual(withoutHeldCap(decodeTrustedEvent(record)))
      expect(orderIdOfRecord(plain)).toBe(orderIdOfRecord(record))
      if (type !== 'kernel.configured') expect(decodeTrustedEvent(plain, unreadMembers(['decision', 'gate']))).toEqual(withoutHeldCap(decodeTrustedEvent(record, unreadMembers(['decision', 'gate']))))
      plainBytes += plain.payload.length
      compactBytes += record.payload.length
    }
    // Not a benchmark: the format's point, on the same records (an IOC order's ~2.1 KB are ~1 KB).
    expect(compactBytes).toBeLessThan(plainBytes * 0.7)
  })

  test('passing over any member or member of a member leaves exactly that member out, and reads the rest as written', async () => {
    const records = await recordsOfRun()
    let skipped = 0
    for (const record of records) {
      const full = decodeEvent(record) as unknown as Record<string, unknown>
      if (full.type === 'kernel.configured') continue // its JSON part has no trusted reader: it takes decodeEvent whole
      const paths: string[] = []
      for (const [key, value] of Object.entries(full)) {
        if (key === 'type') continue
        paths.push(key)
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) for (const inner of Object.keys(value)) paths.push(`${key}.${inner}`)
      }
      for (const path of paths) {
        const [outer, inner] = path.split('.') as [string, string | undefined]
        const expected = structuredClone(full)
        if (inner === undefined) delete expected[outer]
        else delete (expected[outer] as Record<string, unknown>)[inner]
        expect(decodeTrustedEvent(record, unreadMembers([path])) as unknown).toEqual(expected)
        skipped++
      }
    }
    expect(skipped).toBeGreaterThan(1000)
  })

  test('a damaged payload is a SchemaError on both decoders, never a read past the end or another error (seeded)', async () => {
    const records = await recordsOfRun()
    const seed = 20261121
    let state = seed
    const random = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648
      return state / 2147483648
    }
    let refused = 0
    for (const [index, record] of records.entries()) {
      if (index % 3 !== 0) continue
      // Every truncation: refused (a prefix of a valid payload is never a valid payload).
      for (let length = 0; length < record.payload.length; length++) {
        const cut = { ...record, payload: record.payload.subarray(0, length) }
        expect(outcomeOf(decodeEvent, cut)).toBe('refused')
        expect(outcomeOf((r) => decodeTrustedEvent(r), cut)).toBe('refused')
        refused++
      }
      // A trailing byte: refused.
      const longer = new Uint8Array(record.payload.length + 1)
      longer.set(record.payload)
      expect(outcomeOf(decodeEvent, { ...record, payload: longer })).toBe('refused')
      // Random byte flips: either refused or a valid event — the validating decoder never throws anything else, and
      // what it takes is in the one form the writer makes (written again, the same bytes).
      for (let flip = 0; flip < 8; flip++) {
        const damaged = record.payload.slice()
        damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256)
        try {
          if (outcomeOf(decodeEvent, { ...record, payload: damaged }) === 'ok') expect(encodeEvent(decodeEvent({ ...record, payload: damaged })).payload).toEqual(damaged)
          outcomeOf((r) => decodeTrustedEvent(r), { ...record, payload: damaged })
        } catch (error) {
          throw new Error(`seed ${seed}: ${String(error)}`)
        }
      }
    }
    expect(refused).toBeGreaterThan(1000)
  })

  test('a string that is not UTF-8 is refused (overlong, lone continuation, surrogate, cut sequence); a written U+FFFD is kept', () => {
    const note: DomainEvent = { type: 'mode.changed', atMs: 2, mode: 'paper', principalId: 'p', note: 'abcd' }
    const encoded = encodeEvent(note)
    const at = Buffer.from(encoded.payload).indexOf('abcd')
    for (const bad of [[0xc0, 0x80, 0x61, 0x61], [0x80, 0x61, 0x61, 0x61], [0xed, 0xa0, 0x80, 0x61], [0x61, 0x61, 0x61, 0xe2]]) {
      const payload = encoded.payload.slice()
      payload.set(bad, at)
      expect(outcomeOf(decodeEvent, { ...encoded, payload })).toBe('refused')
    }
    const replacement: DomainEvent = { ...note, note: 'bad byte: \uFFFD' }
    expect(decodeEvent(encodeEvent(replacement))).toEqual(replacement)
    // A leading U+FEFF is the string's own, not a byte-order mark to drop (it takes the decoder's path with a U+FFFD).
    const marked: DomainEvent = { ...note, note: '\uFEFFbad byte: \uFFFD' }
    expect(decodeEvent(encodeEvent(marked))).toEqual(marked)
    expect(decodeTrustedEvent(encodeEvent(marked))).toEqual(marked)
  })

  // A lone surrogate cannot be held in UTF-8: the engine makes commands well-formed before deciding
  // (specs/runtime/well-formed.test.ts), and the writer refuses one that reaches it anyway (a bug) instead of logging
  // U+FFFD for it.
  test('a string with a lone surrogate is refused when written, not logged as something else', () => {
    const acked: DomainEvent = { type: 'order.send_acked', atMs: 1, orderId: 'o', venueOrderId: 'v-\uD800' }
    expect(() => encodeEvent(acked)).toThrow(AssertionError)
    expect(() => encodeEvent({ ...acked, venueOrderId: 'v-\uDC00-é' })).toThrow(/lone surrogate/)
  })

  test('short strings read on the trusted path (through its intern table) are exactly the strings written, ASCII or not (seeded)', () => {
    const alphabet = ['a', 'b', 'Ã', '©', 'é', '€', 'x', '0', '😀']
    let state = 7
    const next = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648
      return state
    }
    for (let count = 0; count < 20_000; count++) {
      let note = ''
      for (let length = 1 + (next() % 12); length > 0; length--) note += alphabet[next() % alphabet.length]
      const principalId = Array.from(note).slice(0, 3).join('') // whole code points: never half a surrogate pair
      const event: DomainEvent = { type: 'mode.changed', atMs: count, mode: 'paper', principalId, note }
      const read = decodeTrustedEvent(encodeEvent(event))
      if (read.type !== 'mode.changed' || read.note !== note || read.principalId !== principalId) throw new Error(`seed 7, string ${count}: wrote ${JSON.stringify(note)}, read ${JSON.stringify(read)}`)
    }
  })

  test('amounts of any size and sign, and non-ASCII text, round trip exactly', () => {
    for (const amount of ['0', '-1', '0.00000001', '90071992.54740991', '90071992.54740992', '-12345678901234567890.12345678']) {
      const event: DomainEvent = { type: 'account.funded', atMs: 1, accountId: 'a', asset: 'USD', amount: parseDecimal(amount), reference: 'r' }
      const encoded = encodeEvent(event)
      expect(decodeEvent(encoded)).toEqual(event)
      expect(decodeTrustedEvent(encoded)).toEqual(event)
    }
    const note: DomainEvent = { type: 'mode.changed', atMs: 2, mode: 'paper', principalId: 'ops-é', note: 'halt: 市場 closed 🛑 '.repeat(20) }
    expect(decodeEvent(encodeEvent(note))).toEqual(note)
    expect(decodeTrustedEvent(encodeEvent(note))).toEqual(note)
  })

  test('-0 is written as 0 (canonical JSON, and the command record a standby decides again from, cannot tell them apart)', () => {
    const zero: DomainEvent = { type: 'order.reconcile_deferred', atMs: 0, orderId: 'o1', retryAtMs: 0 }
    const negativeZero: DomainEvent = { ...zero, atMs: -0, retryAtMs: -0 }
    expect(encodeEvent(negativeZero).payload).toEqual(encodeEvent(zero).payload)
    expect(Object.is((decodeEvent(encodeEvent(negativeZero)) as { atMs: number }).atMs, 0)).toBe(true)
  })

  test('the validating reader takes only the forms the writer makes: longer varints, a negative zero amount, an amount as text that fits a varint or is not canonical are refused', () => {
    const funded: DomainEvent = { type: 'account.funded', atMs: 1, accountId: 'a', asset: 'USD', amount: 5n, reference: 'r' }
    const written = encodeEvent(funded)
    // accountId (not a word: 2 × length 1, 'a'), then amount (tag 0, varint 5), then the rest.
    expect(Array.from(written.payload.subarray(0, 4))).toEqual([2, 0x61, 0, 5])
    const rest = written.payload.subarray(4)
    const withAmount = (...bytes: number[]): EncodedEvent => ({ ...written, payload: new Uint8Array([2, 0x61, ...bytes, ...rest]) })
    const text = (value: string): number[] => [2, value.length, ...new TextEncoder().encode(value)]
    expect(decodeEvent(withAmount(0, 5))).toEqual(funded)
    const refused: EncodedEvent[] = [
      { ...written, payload: new Uint8Array([0x82, 0x00, ...written.payload.subarray(1)]) }, // the length 1 in two bytes
      withAmount(0, 0x85, 0x00), // 5 in two bytes
      withAmount(1, 0), // -0
      withAmount(...text('0.00000005')), // fits a varint
      withAmount(...text('-0.00000005')),
      withAmount(...text('01234567890123456789')), // beyond 2^53 units but not as formatDecimal writes it
      withAmount(...text('12345678901234567890.10')),
    ]
    for (const record of refused) expect(outcomeOf(decodeEvent, record)).toBe('refused')
    expect(decodeEvent(withAmount(...text('12345678901234567890.1')))).toEqual({ ...funded, amount: parseDecimal('12345678901234567890.1') })
  })

  test('a presence flag other than 0 or 1 is refused on the trusted path too, in a member it passes over', () => {
    const report: DomainEvent = {
      type: 'inbox.report_accepted',
      atMs: 7,
      orderId: 'o-2',
      report: { venue: 'sim', execId: 'e-1', kind: 'new', clientOrderId: 'c', venueOrderId: 'v', account: 'a', symbol: 's', side: 'buy', cumQty: 0n, venueTimeMs: 6 },
    }
    const written = encodeEvent(report)
    const unread = unreadMembers(['report.reason'])
    expect(decodeTrustedEvent(written, unread)).toEqual(report)
    // report.reason is the only optional member after `kind` ('new') that is absent before `side`: find its flag.
    const at = Buffer.from(written.payload).indexOf(Buffer.from([0, 0x91, 0x01])) // reason absent, then side 'buy' (word 72)
    expect(at).toBeGreaterThan(0)
    const payload = written.payload.slice()
    payload[at] = 2
    expect(outcomeOf((record) => decodeTrustedEvent(record, unread), { ...written, payload })).toBe('refused')
    expect(outcomeOf(decodeEvent, { ...written, payload })).toBe('refused')
  })

  test('an event that does not fit its schema is refused when written (AssertionError), not logged to fail on replay', () => {
    const bad = { type: 'account.funded', atMs: 1, accountId: 'a', asset: 'USD', amount: '100', reference: 'r' } as unknown as DomainEvent
    expect(() => encodeEvent(bad)).toThrow(AssertionError)
    expect(() => encodeEvent({ type: 'order.send_acked', atMs: 1, orderId: 'o' } as unknown as DomainEvent)).toThrow(/venueOrderId must be a string/)
    // An amount no reader can parse back (more than 20 integer digits) would make the log unreadable from that record on.
    const huge: DomainEvent = { type: 'account.funded', atMs: 1, accountId: 'a', asset: 'USD', amount: -(10n ** 28n), reference: 'r' }
    expect(() => encodeEvent(huge)).toThrow(/amount is -100000000000000000000, beyond the amounts a record can hold/)
    const largest = { ...huge, amount: 10n ** 28n - 1n }
    expect(decodeEvent(encodeEvent(largest))).toEqual(largest)
  })
})
