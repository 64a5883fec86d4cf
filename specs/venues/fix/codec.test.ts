import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import {
  checksumOf,
  decodeFixMessage,
  encodeFixMessage,
  FixCodecError,
  FixFrameReader,
} from '../../../src/venues/fix/codec.ts'
import type { FixField } from '../../../src/venues/fix/message.ts'

const SOH = '\x01'
const wire = (text: string): Uint8Array => Buffer.from(text.replaceAll('|', SOH), 'latin1')

/** A valid message built by hand (not by the encoder), so the encoder is checked against independent bytes. */
function handMade(body: string, beginString = 'FIX.4.2'): string {
  const bodyBytes = body.replaceAll('|', SOH)
  const head = `8=${beginString}${SOH}9=${bodyBytes.length}${SOH}`
  const sum = [...Buffer.from(head + bodyBytes, 'latin1')].reduce((a, b) => a + b, 0) % 256
  return `${head}${bodyBytes}10=${String(sum).padStart(3, '0')}${SOH}`
}

function codecError(run: () => unknown): FixCodecError {
  try {
    run()
  } catch (error: unknown) {
    if (error instanceof FixCodecError) return error
    throw error
  }
  throw new Error('expected a FixCodecError')
}

describe('FIX codec: encoding', () => {
  test('BodyLength and CheckSum match a hand-computed message', () => {
    const fields: FixField[] = [[35, 'A'], [49, 'EGRESS'], [56, 'EXEC'], [34, '1'], [52, '20240102-03:04:05.678'], [98, '0'], [108, '30']]
    const encoded = Buffer.from(encodeFixMessage('FIX.4.2', fields)).toString('latin1')
    expect(encoded).toBe(handMade('35=A|49=EGRESS|56=EXEC|34=1|52=20240102-03:04:05.678|98=0|108=30|'))
  })

  test('a known FIX 4.4 heartbeat checksum', () => {
    // CheckSum computed independently (sum of bytes mod 256) for this exact text.
    const text = handMade('35=0|49=A|56=B|34=2|52=20240101-00:00:00|', 'FIX.4.4')
    expect(Buffer.from(encodeFixMessage('FIX.4.4', [[35, '0'], [49, 'A'], [56, 'B'], [34, '2'], [52, '20240101-00:00:00']])).toString('latin1')).toBe(text)
  })

  test('refuses values with SOH, empty values, non-latin1 text and a first field other than MsgType', () => {
    expect(codecError(() => encodeFixMessage('FIX.4.2', [[35, 'D'], [58, 'a\x01b']])).code).toBe('encode')
    expect(codecError(() => encodeFixMessage('FIX.4.2', [[35, 'D'], [58, '']])).code).toBe('encode')
    expect(codecError(() => encodeFixMessage('FIX.4.2', [[35, 'D'], [58, 'λ']])).code).toBe('encode')
    expect(codecError(() => encodeFixMessage('FIX.4.2', [[49, 'X']])).code).toBe('encode')
  })
})

describe('FIX codec: decoding', () => {
  test('round trip keeps every field, in order, for FIX 4.2 and 4.4', () => {
    for (const beginString of ['FIX.4.2', 'FIX.4.4']) {
      const fields: FixField[] = [[35, '8'], [49, 'EXEC'], [56, 'EGRESS'], [34, '7'], [11, 'c-1'], [38, '100.5'], [58, 'a=b c']]
      const message = decodeFixMessage(encodeFixMessage(beginString, fields))
      expect(message.beginString).toBe(beginString)
      expect(message.fields).toEqual(fields)
      expect(message.msgType).toBe('8')
      expect(message.seqNum).toBe(7)
      expect(message.get(38)).toBe('100.5')
    }
  })

  test('a length-prefixed data field may carry SOH and "="', () => {
    const fields: FixField[] = [[35, 'B'], [34, '1'], [95, '5'], [96, 'a\x01=b\x01']]
    expect(decodeFixMessage(encodeFixMessage('FIX.4.4', fields)).get(96)).toBe('a\x01=b\x01')
  })

  test('a stream split at every byte yields the same messages', () => {
    const one = encodeFixMessage('FIX.4.2', [[35, '0'], [34, '1']])
    const two = encodeFixMessage('FIX.4.2', [[35, '1'], [34, '2'], [112, 'T']])
    const stream = new Uint8Array([...one, ...two])
    const reader = new FixFrameReader()
    const seen: string[] = []
    for (const byte of stream) {
      reader.push(new Uint8Array([byte]))
      for (let m = reader.next(); m !== null; m = reader.next()) seen.push(m.msgType)
    }
    expect(seen).toEqual(['0', '1'])
    expect(reader.bufferedBytes).toBe(0)
  })

  test('a bad checksum is a recoverable error and the next message still reads', () => {
    const good = Buffer.from(encodeFixMessage('FIX.4.2', [[35, '0'], [34, '5']])).toString('latin1')
    const bad = good.replace(/10=\d{3}/, (m) => `10=${String((Number(m.slice(3)) + 1) % 256).padStart(3, '0')}`)
    const reader = new FixFrameReader()
    reader.push(Buffer.from(bad + good, 'latin1'))
    const error = codecError(() => reader.next())
    expect(error.code).toBe('checksum')
    expect(error.recoverable).toBe(true)
    expect(error.seqNum).toBe(5)
    expect(reader.next()?.seqNum).toBe(5)
  })

  test('a wrong BodyLength loses framing (unrecoverable) and the reader stays broken', () => {
    const text = handMade('35=0|34=1|').replace('9=10', '9=12')
    const reader = new FixFrameReader()
    reader.push(wire(text + 'xx'))
    const error = codecError(() => reader.next())
    expect(error.code).toBe('trailer')
    expect(error.recoverable).toBe(false)
    expect(codecError(() => reader.next()).code).toBe('trailer')
  })

  test('hostile inputs are typed errors', () => {
    const cases: [string, string][] = [
      ['garbage', 'hello world'],
      ['framing', '9=5|35=0|10=000|'],
      ['body_length', '8=FIX.4.2|9=abc|35=0|10=000|'],
      ['body_length', '8=FIX.4.2|9=99999999|'],
      ['body_length', '8=FIX.4.2|9=9999999|35=0|'],
      ['framing', `8=${'X'.repeat(40)}|9=5|`],
    ]
    for (const [label, text] of cases) {
      const reader = new FixFrameReader({ messageBytesMax: 4096, bufferBytesMax: 65536 })
      reader.push(wire(text))
      const error = codecError(() => reader.next())
      expect(error.recoverable, label).toBe(false)
    }
  })

  test('fields that cannot be split, or a MsgType not third, are recoverable field errors (garbled)', () => {
    for (const body of ['49=A|35=0|', '35=0|34', '35=0|95=9|96=a|', 'x=1|35=0|', '=|35=0|']) {
      const error = codecError(() => decodeFixMessage(wire(handMade(body))))
      expect(error.code, body).toBe('field')
      expect(error.recoverable, body).toBe(true)
    }
  })

  test('a readable message with a bad field is returned with its defect, the field left out (for a session Reject)', () => {
    const cases: [string, { reason: number; refTagId?: number }][] = [
      ['35=0|34=2|x4=1|', { reason: 0 }],
      ['35=0|34=2|034=1|', { reason: 0, refTagId: 34 }],
      ['35=0|34=2|-1=HI|', { reason: 0, refTagId: -1 }],
      ['35=0|34=2|58=|', { reason: 4, refTagId: 58 }],
      ['35=0|34=2|95=x|96=a|', { reason: 6, refTagId: 95 }],
    ]
    for (const [body, expected] of cases) {
      const message = decodeFixMessage(wire(handMade(body)))
      expect({ reason: message.defect?.reason, refTagId: message.defect?.refTagId }, body).toEqual({ reason: expected.reason, refTagId: expected.refTagId })
      expect(message.seqNum, body).toBe(2)
      expect(message.msgType, body).toBe('0')
    }
    expect(decodeFixMessage(wire(handMade('35=0|34=2|58=|112=T|'))).fields).toEqual([[35, '0'], [34, '2'], [112, 'T']])
    expect(decodeFixMessage(wire(handMade('35=0|34=2|'))).defect).toBeUndefined()
  })

  test('truncated input waits for more bytes; a decode of a truncated frame is an error', () => {
    const bytes = encodeFixMessage('FIX.4.2', [[35, '0'], [34, '1']])
    const reader = new FixFrameReader()
    reader.push(bytes.subarray(0, bytes.length - 1))
    expect(reader.next()).toBeNull()
    expect(codecError(() => decodeFixMessage(bytes.subarray(0, bytes.length - 3))).code).toBe('framing')
  })

  test('the buffer bound holds: pushing beyond bufferBytesMax fails, and so does a BodyLength over 16 × messageBytesMax', () => {
    const reader = new FixFrameReader({ messageBytesMax: 100, bufferBytesMax: 256 })
    reader.push(wire('8=FIX.4.2|9=90|'))
    expect(codecError(() => reader.push(new Uint8Array(250))).code).toBe('buffer_full')
    const small = new FixFrameReader({ messageBytesMax: 100, bufferBytesMax: 256 })
    small.push(wire('8=FIX.4.2|9=1601|'))
    expect(codecError(() => small.next()).code).toBe('body_length')
  })

  test('a message over messageBytesMax is read through, holding only its head, and returned with a defect; the next one reads', () => {
    const reader = new FixFrameReader({ messageBytesMax: 100, bufferBytesMax: 256 })
    const big = wire(handMade(`35=8|34=7|11=c1|58=${'x'.repeat(1000)}|`))
    const next = wire(handMade('35=0|34=8|'))
    for (let at = 0; at + 200 < big.length; at += 200) {
      reader.push(big.subarray(at, at + 200))
      expect(reader.next()).toBeNull()
      expect(reader.bufferedBytes).toBe(0)
    }
    reader.push(Buffer.concat([big.subarray(big.length - (big.length % 200 || 200)), next]))
    const refused = reader.next()
    expect(refused?.defect).toMatchObject({ reason: 5, refTagId: 9 })
    expect([refused?.msgType, refused?.seqNum, refused?.get(11)]).toEqual(['8', 7, 'c1'])
    expect(reader.next()?.seqNum).toBe(8)
    const corrupt = Buffer.from(big)
    corrupt[40] = (corrupt[40] ?? 0) ^ 1
    const error = codecError(() => {
      for (let at = 0; at < corrupt.length; at += 200) {
        reader.push(corrupt.subarray(at, at + 200))
        reader.next()
      }
    })
    expect([error.code, error.recoverable, error.seqNum]).toEqual(['checksum', true, 7])
  })

  test('checksumOf is the byte sum mod 256', () => {
    expect(checksumOf(new Uint8Array([255, 2, 1]), 3)).toBe(2)
  })

  test('property: random bytes never throw anything but FixCodecError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), (chunks) => {
        const reader = new FixFrameReader({ messageBytesMax: 512, bufferBytesMax: 2048 })
        for (const chunk of chunks) {
          try {
            reader.push(chunk)
            for (let m = reader.next(); m !== null; m = reader.next()) void m
          } catch (error: unknown) {
            if (!(error instanceof FixCodecError)) throw error
            if (!error.recoverable) return
          }
        }
      }),
      { numRuns: 2000 },
    )
  })

  test('property: mutated valid messages never throw anything but FixCodecError', () => {
    const base = encodeFixMessage('FIX.4.4', [[35, '8'], [49, 'EXEC'], [56, 'EGRESS'], [34, '12'], [17, 'E1'], [95, '3'], [96, 'a=b'], [38, '10']])
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(base.length), (edits, cut) => {
        const bytes = new Uint8Array(base)
        for (const [at, value] of edits) bytes[at] = value
        try {
          decodeFixMessage(bytes.subarray(0, Math.max(1, cut)))
        } catch (error: unknown) {
          if (!(error instanceof FixCodecError)) throw error
        }
      }),
      { numRuns: 3000 },
    )
  })
})
