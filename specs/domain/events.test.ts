import { describe, expect, test } from 'bun:test'
import { canonicalJson } from '../../src/domain/canonical-json.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, EVENT_CODES, EVENT_SCHEMAS, SchemaError, type DomainEvent } from '../../src/domain/events/index.ts'
import { defaultKernelConfig } from '../../src/domain/kernel-config.ts'

const funded: DomainEvent = { type: 'account.funded', atMs: 1, accountId: 'a', asset: 'USD', amount: parseDecimal('100.5'), reference: 'cfg' }

describe('event codec', () => {
  test('encode then decode returns the same event, amounts as bigint', () => {
    const encoded = encodeEvent(funded)
    expect(encoded.type).toBe(110)
    // Version 12: account.funded may carry who funded it and the config digest and build (attribution-member.test.ts).
    expect(encoded.version).toBe(12)
    expect(decodeEvent(encoded)).toEqual(funded)
  })

  test('version 1 payloads (canonical JSON, logs written before the binary layout) still decode to the same event', () => {
    const payload = new TextEncoder().encode('{"accountId":"a","amount":"100.5","asset":"USD","atMs":1,"reference":"cfg"}')
    expect(decodeEvent({ type: 110, version: 1, payload })).toEqual(funded)
  })

  test('a nested config event round-trips', () => {
    const event: DomainEvent = { type: 'kernel.configured', atMs: 5, config: defaultKernelConfig() }
    expect(decodeEvent(encodeEvent(event))).toEqual(event)
  })

  test('a configuration recorded before accountQueuedMax existed decodes with its default', () => {
    // A version 1 (JSON) record, as a binary before that member wrote it.
    const body = JSON.parse(canonicalJson({ atMs: 5, config: defaultKernelConfig() })) as { config: { params: Record<string, unknown> } }
    delete body.config.params['accountQueuedMax']
    const decoded = decodeEvent({ type: 100, version: 1, payload: new TextEncoder().encode(JSON.stringify(body)) })
    expect(decoded.type === 'kernel.configured' && decoded.config.params.accountQueuedMax).toBe(250)
  })

  test('a cancel send recorded before origClientOrderId existed still decodes', () => {
    const gate = { action: 'cancel' as const, mode: 'paper' as const, pass: true, sendAllowed: true, checks: [] }
    const event: DomainEvent = { type: 'order.cancel_send_requested', atMs: 1, orderId: 'o', attempt: 1, cancelClientOrderId: 'eg-o.c1', gate }
    expect(decodeEvent(encodeEvent(event))).toEqual(event)
  })

  test('encoding is deterministic regardless of key order', () => {
    const reordered = { reference: 'cfg', amount: parseDecimal('100.5'), asset: 'USD', accountId: 'a', atMs: 1, type: 'account.funded' } as DomainEvent
    expect(encodeEvent(reordered).payload).toEqual(encodeEvent(funded).payload)
  })

  test('an unknown record type code stops decoding with a SchemaError', () => {
    const error = (() => {
      try {
        decodeEvent({ type: 9999, version: 1, payload: new Uint8Array() })
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(SchemaError)
    expect((error as SchemaError).kind).toBe('unknown_type')
  })

  test('a newer schema version than this binary knows is refused', () => {
    const encoded = { ...encodeEvent(funded), version: 13 }
    expect(() => decodeEvent(encoded)).toThrow(/understands versions 1\.\.12/)
  })

  test('an invalid payload names the field that is wrong', () => {
    const payload = new TextEncoder().encode(canonicalJson({ accountId: 'a', amount: 'lots', asset: 'USD', atMs: 1, reference: 'x' }))
    expect(() => decodeEvent({ type: 110, version: 1, payload })).toThrow(/amount/)
    expect(() => decodeEvent({ type: 110, version: 1, payload: new Uint8Array([0xff]) })).toThrow(SchemaError)
  })

  test('every event type has a schema and a unique u16 code', () => {
    const codes = Object.values(EVENT_CODES)
    expect(new Set(codes).size).toBe(codes.length)
    for (const code of codes) expect(code > 0 && code < 65_536).toBe(true)
    expect(Object.keys(EVENT_CODES).sort()).toEqual(Object.keys(EVENT_SCHEMAS).sort())
  })
})
