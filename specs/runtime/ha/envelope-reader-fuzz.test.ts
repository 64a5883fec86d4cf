/**
 * EnvelopeReader (src/runtime/ha/envelope.ts) against a reference that reads the whole stream at once: random
 * envelopes — heartbeats (no frames), sizes at and around the first buffer's (4096) and its doublings, the bound
 * itself — split at random read boundaries, some at exactly an envelope's or a header's end, some a byte each, several
 * envelopes in one read. Each envelope must come out of the push holding its last byte (not earlier, not later), whole,
 * in order, and stay as it was when the caller reuses its read buffer or the reader takes more. A refused envelope
 * (over the bound) throws at the push completing its header. EGRESS_ENVELOPE_FUZZ_SEED (and _CASES) for another run;
 * a failure names its seed.
 */

import { describe, expect, test } from 'bun:test'
import { ENVELOPE_HEADER_BYTES, EnvelopeReader, encodeEnvelope } from '../../../src/runtime/ha/envelope.ts'
import { prng } from '../../wal/support.ts'

const SEED = Number(process.env['EGRESS_ENVELOPE_FUZZ_SEED'] ?? 91_009)
const CASES = Number(process.env['EGRESS_ENVELOPE_FUZZ_CASES'] ?? 60)
const BYTES_MAX = 20_000
/** Sizes the reader's buffer treats apart: none, under, at and over its first size and its doublings, the bound. */
const EDGE_SIZES = [0, 0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 16_384, BYTES_MAX - 1, BYTES_MAX]

interface Sent {
  frames: Uint8Array
  leaderLastLsn: number
  /** Offset in the stream just past its last byte. */
  endAt: number
}

/** The envelopes of a whole stream, read at once by the format's definition. */
function reference(stream: Uint8Array): { frames: Uint8Array; leaderLastLsn: number; endAt: number }[] {
  const out = []
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength)
  for (let at = 0; at < stream.byteLength; ) {
    const count = view.getUint32(at, true)
    const leaderLastLsn = view.getUint32(at + 4, true) + view.getUint32(at + 8, true) * 2 ** 32
    const endAt = at + ENVELOPE_HEADER_BYTES + count
    out.push({ frames: stream.slice(at + ENVELOPE_HEADER_BYTES, endAt), leaderLastLsn, endAt })
    at = endAt
  }
  return out
}

function envelopesOf(random: () => number): Sent[] {
  let endAt = 0
  return Array.from({ length: 1 + Math.floor(random() * 10) }, () => {
    const size = random() < 0.5 ? (EDGE_SIZES[Math.floor(random() * EDGE_SIZES.length)] as number) : Math.floor(random() * BYTES_MAX)
    const frames = new Uint8Array(size)
    for (let at = 0; at < size; at++) frames[at] = Math.floor(random() * 256)
    const leaderLastLsn = Math.floor(random() * 2 ** 52)
    endAt += ENVELOPE_HEADER_BYTES + size
    return { frames, leaderLastLsn, endAt }
  })
}

/** Read ends: random sizes, single bytes, and ends exactly at envelope and header boundaries. */
function readEndsOf(random: () => number, sent: Sent[], length: number): number[] {
  const ends = new Set<number>([length])
  for (const { endAt, frames } of sent) {
    if (random() < 0.5) ends.add(endAt)
    if (random() < 0.3) ends.add(endAt - frames.byteLength)
    if (random() < 0.2) ends.add(endAt - frames.byteLength - 1 - Math.floor(random() * (ENVELOPE_HEADER_BYTES - 1)))
  }
  for (let at = 0; at < length; ) {
    at += random() < 0.3 ? 1 + Math.floor(random() * 13) : 1 + Math.floor(random() * 30_000)
    if (at < length) ends.add(at)
  }
  return [...ends].filter((end) => end > 0 && end <= length).sort((a, b) => a - b)
}

describe('EnvelopeReader against a whole-stream reference', () => {
  test(`random envelopes and splits (seed ${SEED}, ${CASES} cases)`, () => {
    console.log(`envelope reader fuzz: seed ${SEED}, ${CASES} cases`)
    const random = prng(SEED)
    for (let index = 0; index < CASES; index++) {
      const sent = envelopesOf(random)
      const stream = Buffer.concat(sent.map(({ frames, leaderLastLsn }) => encodeEnvelope(frames, leaderLastLsn)))
      const expected = reference(stream)
      const reader = new EnvelopeReader({ envelopeBytesMax: BYTES_MAX })
      const got: { frames: Uint8Array; leaderLastLsn: number; endAt: number }[] = []
      // One read buffer, reused and overwritten after each push, as a socket's reader may.
      const readBuffer = new Uint8Array(stream.byteLength)
      let from = 0
      for (const end of readEndsOf(random, sent, stream.byteLength)) {
        const read = readBuffer.subarray(0, end - from)
        read.set(stream.subarray(from, end))
        for (const envelope of reader.push(read)) got.push({ ...envelope, endAt: end })
        read.fill(0xa5)
        from = end
      }
      const where = `seed ${SEED}, case ${index}`
      expect({ where, count: got.length }).toEqual({ where, count: expected.length })
      got.forEach((envelope, at) => {
        const want = expected[at] as (typeof expected)[number]
        // Out of the push holding its last byte: that read ends at or after it, the one before ends before it.
        expect({ where, at, leaderLastLsn: envelope.leaderLastLsn, byteLength: envelope.frames.byteLength }).toEqual({ where, at, leaderLastLsn: want.leaderLastLsn, byteLength: want.frames.byteLength })
        expect({ where, at, same: Buffer.compare(envelope.frames, want.frames) === 0 }).toEqual({ where, at, same: true })
        expect({ where, at, late: envelope.endAt >= want.endAt }).toEqual({ where, at, late: true })
      })
    }
  })

  test('each envelope comes out of the push holding its last byte, not a later one', () => {
    const random = prng(SEED + 1)
    for (let index = 0; index < CASES; index++) {
      const sent = envelopesOf(random)
      const stream = Buffer.concat(sent.map(({ frames, leaderLastLsn }) => encodeEnvelope(frames, leaderLastLsn)))
      const reader = new EnvelopeReader({ envelopeBytesMax: BYTES_MAX })
      let from = 0
      let next = 0
      for (const end of readEndsOf(random, sent, stream.byteLength)) {
        const out = reader.push(stream.subarray(from, end))
        let due = 0
        while (next + due < sent.length && (sent[next + due] as Sent).endAt <= end) due++
        expect({ where: `seed ${SEED + 1}, case ${index}, read ${from}..${end}`, count: out.length }).toEqual({ where: `seed ${SEED + 1}, case ${index}, read ${from}..${end}`, count: due })
        next += due
        from = end
      }
      expect(next).toBe(sent.length)
    }
  })

  test('an envelope over the bound throws at the push that completes its header, whatever came before in that read', () => {
    const random = prng(SEED + 2)
    for (let index = 0; index < CASES; index++) {
      const good = encodeEnvelope(new Uint8Array(Math.floor(random() * 100)), 5)
      const over = encodeEnvelope(new Uint8Array(0), 6)
      new DataView(over.buffer).setUint32(0, BYTES_MAX + 1 + Math.floor(random() * 1000), true)
      const stream = Buffer.concat([good, over])
      const reader = new EnvelopeReader({ envelopeBytesMax: BYTES_MAX })
      // The rest of the stream holds the over-bound header's last byte, so it throws; the first read holds none of it.
      const split = good.byteLength + Math.floor(random() * ENVELOPE_HEADER_BYTES) - Math.floor(random() * good.byteLength)
      expect(reader.push(stream.subarray(0, split)).length).toBe(split >= good.byteLength ? 1 : 0)
      expect(() => reader.push(stream.subarray(split))).toThrow(RangeError)
    }
  })
})
