import { describe, expect, test } from 'bun:test'
import { HASH_BYTES } from '../../wal/chain.ts'
import { PAYLOAD_BYTES_MAX, frameBytesFor, recordProblem } from '../../wal/frame.ts'
import { encodeFrame } from './support.ts'
import { decodeFrame } from '../../wal/frame-check.ts'
import { GENESIS_HASH } from '../../wal/index.ts'

function encoded(payloadText: string, lsn = 1): Uint8Array {
  const payload = new TextEncoder().encode(payloadText)
  const buffer = new Uint8Array(frameBytesFor(payload.length))
  encodeFrame(buffer, 0, { lsn, epoch: 9, record: { type: 513, version: 2, payload }, previousHash: GENESIS_HASH, scratchHash: new Uint8Array(HASH_BYTES) })
  return buffer
}

describe('frame', () => {
  test('a frame round-trips its LSN, epoch, type, version and payload', () => {
    const lsn = 2 ** 40 + 5 // beyond 32 bits
    const buffer = encoded('payload bytes', lsn)
    const check = decodeFrame(buffer, 0, buffer.length)
    expect(check.ok).toBe(true)
    if (!check.ok) return
    expect(check.frame.lsn).toBe(lsn)
    expect(check.frame.epoch).toBe(9)
    expect(check.frame.type).toBe(513)
    expect(check.frame.version).toBe(2)
    expect(new TextDecoder().decode(check.frame.payload)).toBe('payload bytes')
    expect(check.frame.frameBytes).toBe(buffer.length)
  })

  test('a flipped bit anywhere after the length field fails the CRC', () => {
    const clean = encoded('some payload')
    for (let offset = 4; offset < clean.length; offset++) {
      const damaged = clean.slice()
      damaged[offset] = (damaged[offset] as number) ^ 0x10
      const check = decodeFrame(damaged, 0, damaged.length)
      expect(check.ok, `offset ${offset}`).toBe(false)
    }
  })

  test('a frame cut short is reported as short, an absurd length as length', () => {
    const clean = encoded('abc')
    expect(decodeFrame(clean, 0, clean.length - 1)).toEqual({ ok: false, reason: 'short' })
    expect(decodeFrame(clean, 0, 20)).toEqual({ ok: false, reason: 'short' })
    const absurd = clean.slice()
    new DataView(absurd.buffer).setUint32(0, 0xffff_fff0, true)
    expect(decodeFrame(absurd, 0, absurd.length)).toEqual({ ok: false, reason: 'length' })
  })

  test('records with a bad type, version or an oversized payload are refused before writing', () => {
    const payload = new Uint8Array(1)
    expect(recordProblem({ type: -1, version: 1, payload })).toContain('type must be')
    expect(recordProblem({ type: 70_000, version: 1, payload })).toContain('type must be')
    expect(recordProblem({ type: 1, version: 1.5, payload })).toContain('version must be')
    expect(recordProblem({ type: 1, version: 1, payload: new Uint8Array(PAYLOAD_BYTES_MAX + 1) })).toContain('payload must be')
    expect(recordProblem({ type: 1, version: 1, payload })).toBeNull()
  })
})
