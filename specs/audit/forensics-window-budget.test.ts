// The forensics bundle finds a frame boundary in its window by CRC (src/audit/forensics-window.ts firstFrameIn), on the
// event loop of a gateway that has just found tampering. Bytes that read as frame lengths at most offsets made that
// seconds of CRC for a 1 MiB window; its CRC work is now bounded (wal/frame-search.ts), and past the bound it finds no
// frame: the slice is taken from the window's start, no seals are read from it.
import { afterAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { firstFrameIn } from '../../src/audit/forensics-window.ts'
import { FRAME_SEARCH_BASE_CRC_BYTES, frameSearchWork, Wal } from '../../wal/index.ts'
import { craftedFrameHeaders } from '../wal/support.ts'
import { rawFrames, removeTempDirs, tempDir } from './support.ts'

afterAll(removeTempDirs)

async function oneFrame(): Promise<Uint8Array> {
  const wal = Wal.open(tempDir('egress-forensics-budget-'), { durability: 'none', preallocateBytes: 0 })
  await wal.append([{ type: 7, version: 1, payload: new TextEncoder().encode('a record after the crafted bytes') }])
  const file = wal.segments[0]?.path as string
  await wal.close()
  const [frame] = rawFrames(file)
  return readFileSync(file).subarray(frame?.offset, frame?.end)
}

test('a window of bytes crafted to read as frame headers: the search for its first frame stops within its CRC budget', async () => {
  const frame = await oneFrame()
  const crafted = craftedFrameHeaders(1 << 20, 1)
  const window = new Uint8Array(crafted.byteLength + frame.byteLength)
  window.set(crafted)
  window.set(frame, crafted.byteLength)
  // The real frame alone, found at once.
  expect(firstFrameIn(frame, 0, frame.byteLength)).toBe(0)
  const before = frameSearchWork.crcBytes
  // Ruling out every crafted offset takes ~4 GiB of CRC (61k candidates of 64 KiB): the search gives up first.
  expect(firstFrameIn(window, 0, window.byteLength)).toBeNull()
  const work = frameSearchWork.crcBytes - before
  expect(work).toBeGreaterThan(FRAME_SEARCH_BASE_CRC_BYTES)
  expect(work).toBeLessThanOrEqual(FRAME_SEARCH_BASE_CRC_BYTES + 2 * window.byteLength)
})
