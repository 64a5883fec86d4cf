/** The restart replay's fast decoder gives exactly what the full (valibot) decoder gives, on every record of a run. */

import { afterAll, describe, expect, test } from 'bun:test'
import { canonicalJson } from '../../../src/domain/canonical-json.ts'
import { trustedBinaryDecoder } from '../../../src/domain/events/binary-records.ts'
import { decodeEvent, encodeEvent, SchemaError, type DomainEvent, type EncodedEvent } from '../../../src/domain/events/index.ts'
import { decodeTrustedEvent, fastPlanFor, trustedDecodeTypes, unreadMembers } from '../../../src/domain/events/trusted-decode.ts'
import { EVENT_VERSIONS } from '../../../src/domain/events/registry.ts'
import { isAuditRecord } from '../../../src/runtime/records.ts'
import { formatDecimal } from '../../../src/domain/decimal.ts'
import { crashWorld, removeDir } from '../../runtime/harness.ts'
import { tradedWorld } from '../../runtime/snapshot/support.ts'

const dirs: string[] = []

/** The same event as a version 1 record: canonical JSON, as logs written before the binary layout hold it. */
function jsonRecordOf(encoded: EncodedEvent, event: DomainEvent): EncodedEvent {
  const { type: _type, ...body } = event
  return { type: encoded.type, version: 1, payload: new TextEncoder().encode(canonicalJson(body)) }
}
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

describe('trusted decode (restart replay)', () => {
  test('agrees with decodeEvent on every record of a varied run (fills, rests, cancels, amends, rejects)', async () => {
    const world = await tradedWorld(11, 60)
    dirs.push(world.dir)
    await world.gateway.engine.settled()
    const seen = new Map<string, number>()
    for (const frame of world.gateway.engine.wal.read(1)) {
      if (isAuditRecord(frame.type)) continue
      const encoded = { type: frame.type, version: frame.version, payload: frame.payload }
      const full = decodeEvent(encoded)
      const fast = decodeTrustedEvent(encoded)
      expect(fast).toEqual(full)
      // Same bytes again: nothing the fast path leaves behind (key order aside) differs from what was written.
      expect(encodeEvent(fast).payload).toEqual(encodeEvent(full).payload)
      // Every record but the configuration takes the fast path (types with nothing to convert included).
      expect(trustedBinaryDecoder(full.type, EVENT_VERSIONS[full.type]) === null).toBe(full.type === 'kernel.configured')
      // The same record as version 1 JSON (an older log): the JSON fast path agrees too, with and without a cut member.
      const json = jsonRecordOf(encoded, full)
      expect(decodeTrustedEvent(json)).toEqual(full)
      expect(fastPlanFor(json) === null).toBe(full.type === 'kernel.configured')
      for (const unread of ['decision', 'gate']) {
        const { [unread]: _left, ...rest } = full as unknown as Record<string, unknown>
        if (!(unread in full)) continue
        expect(decodeTrustedEvent(json, unreadMembers([unread]))).toEqual(rest as unknown as DomainEvent)
        expect(decodeTrustedEvent(encoded, unreadMembers([unread]))).toEqual(rest as unknown as DomainEvent)
      }
      seen.set(full.type, (seen.get(full.type) ?? 0) + 1)
    }
    await crashWorld(world)
    for (const type of ['order.accepted', 'order.rejected', 'inbox.report_accepted', 'order.send_requested', 'order.fill', 'order.canceled', 'order.amended']) {
      expect(seen.get(type) ?? 0).toBeGreaterThan(0)
    }
    // Every event type but the rare configuration record takes the fast path.
    expect(trustedDecodeTypes()).toContain('order.accepted')
    expect(trustedDecodeTypes()).toContain('inbox.report_accepted')
    expect(trustedDecodeTypes()).not.toContain('kernel.configured')
  })

  test('unknown codes and newer versions are refused like decodeEvent refuses them', () => {
    const payload = new TextEncoder().encode('{}')
    expect(() => decodeTrustedEvent({ type: 0x7fff, version: 1, payload })).toThrow(SchemaError)
    const accepted = encodeEvent({ type: 'mode.changed', atMs: 1, mode: 'paper', principalId: 'p', note: '' } as never)
    expect(() => decodeTrustedEvent({ ...accepted, version: 99 })).toThrow(SchemaError)
    expect(decodeTrustedEvent(accepted)).toEqual(decodeEvent(accepted))
  })

  test('amounts convert exactly on both paths: signs, 8 places, beyond 2^53 units', () => {
    const amounts = ['0', '1', '-1', '1.5', '-0.00000001', '0.00000001', '123456789012345', '1234567.12345678', '-99999999.99999999', '90071992.54740991', '90071992.54740993', '92233720368.54775807', '-12345678901234567890.12345678']
    for (const amount of amounts) {
      const event = decodeEvent({ type: 110, version: 1, payload: new TextEncoder().encode(canonicalJson({ atMs: 1, accountId: 'a', asset: 'USD', amount, reference: 'r' })) })
      const encoded = encodeEvent(event)
      expect(decodeTrustedEvent(jsonRecordOf(encoded, event))).toEqual(event)
      expect(decodeTrustedEvent(encoded)).toEqual(decodeEvent(encoded))
      expect(formatDecimal((decodeTrustedEvent(encoded) as { amount: bigint }).amount)).toBe(amount)
    }
  })

  test('hand-written amount strings (not as formatDecimal writes them) convert as decodeEvent converts them, or are refused where it refuses them', () => {
    // Version 1 (JSON) records: the only kind in which an amount is text.
    const template = { type: 110, version: 1, payload: new TextEncoder().encode(canonicalJson({ atMs: 1, accountId: 'a', asset: 'USD', amount: '1', reference: 'r' })) }
    const amounts = ['-0', '007.50', '0.10', '1.', '.5', '-.5', '1e5', '+1', '--1', '1.2.3', '', '-', '1234567890123456', '123456789012345.6', '0.123456789', ' 1', '12345678901234.5', '999999999999999']
    for (const amount of amounts) {
      const body = JSON.parse(new TextDecoder().decode(template.payload)) as Record<string, unknown>
      const encoded = { ...template, payload: new TextEncoder().encode(JSON.stringify({ ...body, amount })) }
      const outcome = (decode: typeof decodeEvent): unknown => {
        try {
          return (decode(encoded) as unknown as { amount: bigint }).amount
        } catch {
          return 'refused' // the trusted path refuses with the decimal parser's error, not a SchemaError: records it reads were validated when written
        }
      }
      expect([amount, outcome(decodeTrustedEvent)]).toEqual([amount, outcome(decodeEvent)])
    }
  })
})
