/**
 * The replication stream's envelopes reassembled from reads of any size (src/runtime/ha/envelope.ts): whatever the
 * read boundaries — inside a header, inside the frames, several envelopes in one read — the same envelopes come out,
 * in order, each the bytes sent; an envelope claiming more than the bound is refused. The reader keeps reads as they
 * came and copies each once (joined on every read, 8 MiB in 4 KiB reads took 2.3 s of the standby's event loop).
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
