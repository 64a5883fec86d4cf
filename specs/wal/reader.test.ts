import { afterEach, describe, expect, test } from 'bun:test'
import { truncateSync } from 'node:fs'
import { PAYLOAD_BYTES_MAX, Wal, WalCorruptionError, nodeIo, openReadOnly, toHex, type WalIo } from '../../wal/index.ts'
import { chainHashReference } from '../../wal/chain.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const WAL = { durability: 'none', preallocateBytes: 0 } as const

/** An io that adds up the bytes every read asks for. */
function readCountingIo(): WalIo & { readBytes: number } {
  const io = {
    ...nodeIo,
    readBytes: 0,
    read: (fd: number, target: Uint8Array, positionBytes: number): number => {
      io.readBytes += target.byteLength
      return nodeIo.read(fd, target, positionBytes)
    },
  }
  return io
}

/** A payload of `length` bytes whose content depends on `seed`, so a misplaced or stale byte shows. */
function patterned(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let index = 0; index < length; index++) bytes[index] = (index * 131 + seed * 7) & 0xff
  return bytes
}

function digestOf(bytes: Uint8Array): string {
  return toHex(chainHashReference(new Uint8Array(32), bytes))
}

describe('reading frames back', () => {
  test('a point read reads a small window around its index point, not a whole chunk', async () => {
    const io = readCountingIo()
    const wal = Wal.open(tempDir(), { ...WAL, io, segmentBytesMax: 16 << 20 })
    for (let batch = 0; batch < 8; batch++) await wal.append(Array.from({ length: 1000 }, (_, index) => record(`${batch}:${index}`.padEnd(1000, '.'))))
    expect(wal.segments.length).toBe(1) // 8 MB in one segment: a whole-chunk read would take 4 MiB
    io.readBytes = 0
    const lsns = Array.from(wal.read(6543, { toLsn: 6543 }), (frame) => frame.lsn)
    expect(lsns).toEqual([6543])
    // From the index point before it (≤ 255 frames of ~1 KiB back), in reads that double from 64 KiB.
    expect(io.readBytes).toBeLessThanOrEqual(512 * 1024)
    await wal.close()
  })

  test('frames longer than the first read are read whole, wherever a read starts', async () => {
    const wal = Wal.open(tempDir(), { ...WAL, segmentBytesMax: 8 << 20 })
    const sizes = [10, 200_000, 30, PAYLOAD_BYTES_MAX, 64 * 1024 - 56, 64 * 1024, 5, 300_000, 70_000, 1]
    const payloads = sizes.map((size, index) => patterned(size, index))
    for (const payload of payloads) await wal.append([{ type: 3, version: 1, payload }])
    const expected = payloads.map((payload, index) => `${index + 1}:${payload.byteLength}:${digestOf(payload)}`)
    for (let from = 1; from <= payloads.length; from++) {
      const read = Array.from(wal.read(from, { verifyChain: true }), (frame) => `${frame.lsn}:${frame.payload.byteLength}:${digestOf(frame.payload)}`)
      expect(read).toEqual(expected.slice(from - 1))
    }
    await wal.close()
  })

  test('a segment file cut short behind the reader fails the read as FRAME_CORRUPT, naming the file', async () => {
    const dir = tempDir()
    const wal = Wal.open(dir, { ...WAL, segmentBytesMax: 1 << 20 })
    await wal.append(Array.from({ length: 50 }, (_, index) => record(`${index}`.padEnd(100, '.'))))
    const path = wal.segments[0]?.path as string
    await wal.close()
    const log = openReadOnly(dir)
    const frameBytes = 56 + 100
    for (const cutAt of [64 + 20 * frameBytes + 70, 64 + 20 * frameBytes]) {
      truncateSync(path, cutAt) // inside a frame, then at a frame boundary
      let failure: unknown = null
      const lsns: number[] = []
      try {
        for (const frame of log.read(1)) lsns.push(frame.lsn)
      } catch (error) {
        failure = error
      }
      expect(lsns).toEqual(Array.from({ length: 20 }, (_, index) => index + 1))
      expect(failure).toBeInstanceOf(WalCorruptionError)
      expect((failure as WalCorruptionError).code).toBe('FRAME_CORRUPT')
      expect((failure as WalCorruptionError).location).toEqual({ file: path, offsetBytes: 64 + 20 * frameBytes, lsn: 21 })
    }
  })
})
