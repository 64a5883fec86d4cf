/**
 * The replication stream's envelopes reassembled from reads of any size (src/runtime/ha/envelope.ts): whatever the
 * read boundaries — inside a header, inside the frames, several envelopes in one read — the same envelopes come out,
 * in order, each the bytes sent; an envelope claiming more than the bound is refused. The envelope under way is held in
 * one buffer grown by doubling: joined on every read, 8 MiB in 4 KiB reads took 2.3 s of the standby's event loop; each
 * read kept as its own array, a byte per read held some 75 bytes of heap per byte.
 */

import { describe, expect, test } from 'bun:test'
import { EnvelopeReader, encodeEnvelope } from '../../../src/runtime/ha/envelope.ts'
import { prng } from '../../wal/support.ts'

const SEEDS = 40

describe('EnvelopeReader', () => {
  test('random envelopes split at random read boundaries come out whole, in order', () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = prng(seed)
      const sent = Array.from({ length: 1 + Math.floor(random() * 8) }, (_, index) => {
        const frames = new Uint8Array(Math.floor(random() * (random() < 0.2 ? 0 : 5000)))
        for (let at = 0; at < frames.byteLength; at++) frames[at] = Math.floor(random() * 256)
        return { frames, leaderLastLsn: index * 2 ** 33 + Math.floor(random() * 1000) }
      })
      const stream = Buffer.concat(sent.map(({ frames, leaderLastLsn }) => encodeEnvelope(frames, leaderLastLsn)))
      const reader = new EnvelopeReader({ envelopeBytesMax: 8192 })
      const received: { frames: Uint8Array; leaderLastLsn: number }[] = []
      for (let at = 0; at < stream.byteLength; ) {
        const size = random() < 0.3 ? 1 + Math.floor(random() * 13) : Math.floor(random() * 6000)
        received.push(...reader.push(new Uint8Array(stream.subarray(at, at + size))))
        at += size
      }
      expect({ seed, count: received.length }).toEqual({ seed, count: sent.length })
      received.forEach((envelope, index) => {
        expect(envelope.leaderLastLsn).toBe(sent[index]?.leaderLastLsn as number)
        expect(Buffer.compare(envelope.frames, sent[index]?.frames as Uint8Array)).toBe(0)
      })
    }
  })

  test('an envelope claiming more than the bound is refused as soon as its header is in', () => {
    const reader = new EnvelopeReader({ envelopeBytesMax: 100 })
    const header = encodeEnvelope(new Uint8Array(101), 7).subarray(0, 12)
    expect(reader.push(header.subarray(0, 5))).toEqual([])
    expect(() => reader.push(header.subarray(5))).toThrow(RangeError)
  })
})

describe('EnvelopeReader memory', () => {
  test('an envelope trickled a byte per read holds about its bytes, not an object per read', () => {
    // A leader (or a hostile peer) sending an envelope one byte per TCP segment: each read was kept as its own array
    // until the envelope was complete, some 75 bytes of heap per byte sent (79 MB for this 1 MiB envelope), so
    // serve-ha's 8 MiB envelopeBytesMax held some 600 MB.
    const frameBytes = 1024 * 1024
    const frames = new Uint8Array(frameBytes).map((_, at) => at % 251)
    const stream = encodeEnvelope(frames, 2 ** 33 + 5)
    const reader = new EnvelopeReader({ envelopeBytesMax: frameBytes })
    Bun.gc(true)
    const before = process.memoryUsage().heapUsed
    for (let at = 0; at < stream.byteLength - 1; at++) expect(reader.push(stream.subarray(at, at + 1))).toEqual([])
    Bun.gc(true)
    const held = process.memoryUsage().heapUsed - before
    expect(held).toBeLessThan(8 * frameBytes)
    const [envelope, ...more] = reader.push(stream.subarray(stream.byteLength - 1))
    expect(more).toEqual([])
    expect(envelope?.leaderLastLsn).toBe(2 ** 33 + 5)
    expect(Buffer.compare(envelope?.frames as Uint8Array, frames)).toBe(0)
  })

  test('a read is copied in: the caller may reuse its buffer before the envelope completes', () => {
    const stream = encodeEnvelope(new Uint8Array([1, 2, 3, 4, 5]), 9)
    const reader = new EnvelopeReader({ envelopeBytesMax: 100 })
    const buffer = new Uint8Array(9)
    buffer.set(stream.subarray(0, 8))
    expect(reader.push(buffer.subarray(0, 8))).toEqual([])
    buffer.fill(0xff)
    buffer.set(stream.subarray(8))
    const [envelope, ...more] = reader.push(buffer)
    expect(more).toEqual([])
    expect(envelope?.leaderLastLsn).toBe(9)
    expect([...(envelope?.frames as Uint8Array)]).toEqual([1, 2, 3, 4, 5])
  })
})
