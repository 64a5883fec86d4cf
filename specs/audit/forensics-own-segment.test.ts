/**
 * The forensics bundle reads only a window of the problem's own segment when that segment is larger than the seals'
 * bound (src/audit/forensics-window.ts). It scanned the whole of it — the chain re-derived with the reference hash
 * over up to a segment's 1 GiB, one synchronous stretch (half a second per 64 MiB measured) on the event loop of a
 * gateway that had just gone to CANCEL_ONLY or HALT — and walked every frame's length from its header, one read each,
 * to start the slice; the segments before it were bounded already (forensics-seals.test.ts).
 */

import { afterAll, expect, test } from 'bun:test'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { AUDIT_SEAL, Sealer, writeForensicsBundle } from '../../src/audit/index.ts'
import { forensicsReads } from '../../src/audit/forensics-window.ts'
import { Wal } from '../../wal/index.ts'
import { editPayloadByte, rawFrames, removeTempDirs, tempDir, testKeys } from './support.ts'

afterAll(removeTempDirs)

const SEALS_SCAN_BYTES = 512 * 1024
const WINDOW_BYTES = 64 * 1024

/** One segment of about 6 MiB (8 KiB records), a seal after every 8 records; closed. */
async function oneLargeSegment(): Promise<{ dir: string; file: string }> {
  const keys = await testKeys()
  const wal = Wal.open(tempDir('egress-forensics-own-'), { durability: 'none', preallocateBytes: 0, segmentBytesMax: 64 * 1024 * 1024 })
  const sealer = new Sealer({ signer: keys.signer, everyRecords: 8, everyMs: 60_000 })
  const payload = new Uint8Array(8 * 1024).fill(0x61)
  for (let batch = 0; batch < 96; batch++) {
    await wal.append(Array.from({ length: 8 }, () => ({ type: 7, version: 1, payload })))
    await sealer.maybeSeal(wal, batch)
  }
  expect(wal.segments.length).toBe(1)
  const file = wal.segments[0]?.path as string
  await wal.close()
  return { dir: wal.dir, file }
}

async function bundleFor(dir: string, problem: { code: 'SEAL_SIGNATURE_INVALID' | 'CHAIN_BREAK'; lsn: number; file: string; offsetBytes: number }) {
  const readBefore = forensicsReads.bytes
  const bundle = await writeForensicsBundle({
    logDir: dir, problem, outDir: tempDir('egress-forensics-'), configDigest: 'ab'.repeat(32), nowMs: 0, sealsScanBytes: SEALS_SCAN_BYTES, windowBytes: WINDOW_BYTES,
  })
  const seals = (JSON.parse(readFileSync(join(bundle.dir, 'seals.json'), 'utf8')) as { recordLsn: number }[]).map((seal) => seal.recordLsn)
  const slice = bundle.files.map((entry) => entry.name).find((name) => name.startsWith('slice-')) as string
  const sliceStart = Number(/-(\d+)-(\d+)\.bin$/.exec(slice)?.[1])
  return { seals, sliceStart, readBytes: forensicsReads.bytes - readBefore }
}

test('a finding near the end of a large segment: the seals of a window around it, the slice from a frame in its window, reads bounded', async () => {
  const { dir, file } = await oneLargeSegment()
  const frames = rawFrames(file)
  const sealFrames = frames.filter((frame) => frame.type === AUDIT_SEAL.type)
  expect(statSync(file).size).toBeGreaterThan(8 * SEALS_SCAN_BYTES)
  const problem = sealFrames.at(-2) as (typeof sealFrames)[number]

  const { seals, sliceStart, readBytes } = await bundleFor(dir, { code: 'SEAL_SIGNATURE_INVALID', lsn: problem.lsn, file, offsetBytes: problem.offset })
  const inWindow = sealFrames.filter((frame) => frame.offset >= problem.offset - SEALS_SCAN_BYTES / 2 && frame.end <= problem.offset + SEALS_SCAN_BYTES / 2)
  // The seals around the problem (its own included), none from the segment's start: it was scanned whole.
  const windowLsns = new Set(inWindow.map((frame) => frame.lsn))
  expect(seals.filter((lsn) => !windowLsns.has(lsn))).toEqual([])
  expect(seals).toContain(problem.lsn)
  expect(seals.length).toBeGreaterThanOrEqual(inWindow.length - 1)
  expect(seals).not.toContain(sealFrames[0]?.lsn as number)
  // The slice starts at a frame, within the window before the problem.
  expect(frames.some((frame) => frame.offset === sliceStart)).toBe(true)
  expect(sliceStart).toBeGreaterThanOrEqual(problem.offset - WINDOW_BYTES)
  expect(readBytes).toBeLessThanOrEqual(SEALS_SCAN_BYTES + 2 * WINDOW_BYTES + 64)
})

test('a chain break near the end of a large segment: the window\'s seals stop at it, as the whole scan\'s did', async () => {
  const { dir, file } = await oneLargeSegment()
  const sealFrames = rawFrames(file).filter((frame) => frame.type === AUDIT_SEAL.type)
  const edited = editPayloadByte(dir, (sealFrames.at(-3)?.lsn as number) + 2)
  const { seals } = await bundleFor(dir, { code: 'CHAIN_BREAK', lsn: edited.lsn, file, offsetBytes: edited.offset })
  expect(seals.length).toBeGreaterThan(0)
  expect(seals.every((lsn) => lsn < edited.lsn)).toBe(true)
  expect(seals).toContain(sealFrames.at(-3)?.lsn as number)
  expect(seals).not.toContain(sealFrames[0]?.lsn as number)
})
