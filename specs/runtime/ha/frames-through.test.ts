/**
 * framesThrough (src/runtime/ha/frames-through.ts), how `egress backup --to-lsn N` ends its log: at N, or at the end of
 * the decision holding N (its command record says how many events follow it), never inside one; bytes it cannot walk
 * are passed on whole, for Wal.appendFrames to refuse.
 */

import { expect, test } from 'bun:test'
import { rawFrameBytes, type Wal } from '../../../wal/index.ts'
import { decodeCommandRecord, framesThrough, isCommandRecord } from '../../../src/runtime/ha/index.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { trade } from '../snapshot/support.ts'

const worlds = worldsStoppedAfterEach()

function allFrames(wal: Wal): { bytes: Uint8Array; ends: Map<number, number> } {
  const parts: Uint8Array[] = []
  const ends = new Map<number, number>()
  let offset = 0
  for (const frame of wal.read(1)) {
    const raw = rawFrameBytes(frame).slice()
    parts.push(raw)
    offset += raw.byteLength
    ends.set(frame.lsn, offset)
  }
  return { bytes: Buffer.concat(parts), ends }
}

test('an LSN inside a decision ends the frames at the decision\'s last event; one between decisions ends them there', async () => {
  const world = await startWorld({ seed: 111, commandRecords: true })
  worlds.push(world)
  await trade(world, { orders: 6, tag: 'f', seed: 111 })
  const wal = world.gateway.engine.wal
  const decisions: { from: number; to: number }[] = []
  for (const frame of wal.read(1)) if (isCommandRecord(frame.type)) decisions.push({ from: frame.lsn, to: frame.lsn + decodeCommandRecord(frame).eventCount })
  const inside = decisions.filter((decision) => decision.to > decision.from)
  expect(inside.length).toBeGreaterThan(3)
  const { bytes, ends } = allFrames(wal)
  for (const decision of inside) {
    const through = framesThrough(bytes, decision.from)
    expect(through.endLsn).toBe(decision.to)
    expect(through.bytes.byteLength).toBe(ends.get(decision.to) ?? -1)
    const atEnd = framesThrough(bytes, decision.to)
    expect(atEnd.bytes.byteLength).toBe(ends.get(decision.to) ?? -1)
  }
  // Beyond the frames: all of them, the end unchanged.
  expect(framesThrough(bytes, wal.lastLsn + 5)).toEqual({ bytes, endLsn: wal.lastLsn + 5 })
  // A bad length stops the walk there and hands everything on (the append refuses it).
  const broken = bytes.slice()
  new DataView(broken.buffer).setUint32(ends.get(2) ?? 0, 0xffff_ffff, true)
  expect(framesThrough(broken, 3).bytes.byteLength).toBe(broken.byteLength)
})
