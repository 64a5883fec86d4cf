import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { frameContinues, openReadOnly, rawFrameBytes, Wal, type Wal as WalType } from '../../../wal/index.ts'
import { FRAME_PREFIX_BYTES } from '../../../wal/frame.ts'
import { decodeCommandRecord, EnvelopeReader, isCommandRecord, replicationStream } from '../../../src/runtime/ha/index.ts'
import { domainEventOf } from '../../../src/runtime/records.ts'
import { crashWorld, run, startWorld, tempDataDir, traderA, worldsStoppedAfterEach } from '../harness.ts'
import { trade } from '../snapshot/support.ts'

const worlds = worldsStoppedAfterEach()

/** The LSN ranges [command record, last event] of every decision written with a command record. */
function decisions(wal: WalType): { from: number; to: number }[] {
  const ranges: { from: number; to: number }[] = []
  for (const frame of wal.read(wal.firstLsn)) {
    if (isCommandRecord(frame.type)) ranges.push({ from: frame.lsn, to: frame.lsn + decodeCommandRecord(frame).eventCount })
  }
  return ranges
}

/** The LSN ranges [first, last] of every append, by its frames' flags (wal/frame.ts). */
function appends(wal: WalType): { from: number; to: number }[] {
  const ranges: { from: number; to: number }[] = []
  let from = 0
  for (const frame of wal.read(wal.firstLsn)) {
    if (from === 0) from = frame.lsn
    if (!frameContinues(rawFrameBytes(frame))) {
      ranges.push({ from, to: frame.lsn })
      from = 0
    }
  }
  return ranges
}

/** The last LSN of each envelope the leader streams from LSN 1, with envelopes of at most `chunkBytesMax` bytes. */
async function envelopeEnds(wal: WalType, chunkBytesMax: number): Promise<number[]> {
  const abort = new AbortController()
  const reader = new EnvelopeReader({ envelopeBytesMax: 16 * 1024 * 1024 })
  const ends: number[] = []
  for await (const bytes of replicationStream(wal, { fromLsn: 1, chunkBytesMax, heartbeatMs: 50, signal: abort.signal })) {
    for (const envelope of reader.push(bytes)) {
      const view = new DataView(envelope.frames.buffer, envelope.frames.byteOffset, envelope.frames.byteLength)
      let offset = 0
      let last = 0
      // Each frame: u32 body bytes, u32 CRC, then the body (hash, LSN, …); the LSN is the u64 after the 32-byte hash.
      while (offset < envelope.frames.byteLength) {
        last = Number(view.getBigUint64(offset + FRAME_PREFIX_BYTES + 32, true))
        offset += FRAME_PREFIX_BYTES + view.getUint32(offset, true)
      }
      if (last > 0) ends.push(last)
    }
    if ((ends.at(-1) ?? 0) >= wal.lastLsn) abort.abort()
  }
  return ends
}

describe('replication envelopes and decisions', () => {
  test('an envelope never ends inside a decision: a standby holds each decision whole or not at all', async () => {
    const world = await startWorld({ seed: 11 })
    worlds.push(world)
    // An HA leader writes each decision's command record just before its events (the standby re-decides them).
    world.gateway.engine.commandRecords = true
    await trade(world, { orders: 30, tag: 'env', seed: 11 })
    await run(world, 500)
    const wal = world.gateway.engine.wal
    const ranges = decisions(wal)
    expect(ranges.filter((range) => range.to > range.from).length).toBeGreaterThan(50)
    // Small envelopes, as when a standby catches up a backlog larger than the chunk bound (1 MiB in serve).
    for (const chunkBytesMax of [4_000, 9_000, 30_000]) {
      const ends = await envelopeEnds(wal, chunkBytesMax)
      expect(ends.at(-1)).toBe(wal.lastLsn)
      const inside = ends.filter((end) => ranges.some((range) => end >= range.from && end < range.to))
      expect({ chunkBytesMax, endsInsideADecision: inside.length }).toEqual({ chunkBytesMax, endsInsideADecision: 0 })
    }
  })

  test('without command records (a single node\'s log), the frames\' append flags keep every decision whole in the envelopes', async () => {
    const world = await startWorld({ seed: 11 })
    worlds.push(world)
    await trade(world, { orders: 30, tag: 'env', seed: 11 })
    await run(world, 500)
    const wal = world.gateway.engine.wal
    const ranges = appends(wal)
    expect(ranges.filter((range) => range.to > range.from).length).toBeGreaterThan(40)
    // Many bounds, so that some fall inside a decision (most here are two frames: a bound cut one by chance only).
    for (let chunkBytesMax = 3_000; chunkBytesMax < 9_000; chunkBytesMax += 211) {
      const ends = await envelopeEnds(wal, chunkBytesMax)
      expect(ends.at(-1)).toBe(wal.lastLsn)
      const inside = ends.filter((end) => ranges.some((range) => end >= range.from && end < range.to))
      expect({ chunkBytesMax, endsInsideADecision: inside.length }).toEqual({ chunkBytesMax, endsInsideADecision: 0 })
    }
  })

  // A log can still end inside a decision written before the append flag, by a standby whose stream cut one larger
  // than twice the bound (an open cuts it back now: wal/frame.ts). Here the restart's open cuts the place result's
  // frames back to where its decision began: the order is Sent with its call's answer unknown, and is reconciled.
  test('a log ending between a place result\'s call_completed and its send_acked: the order is reconciled after a restart', async () => {
    const world = await startWorld({ seed: 5 })
    const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price: '2910', client_order_id: 'split-1' }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    const orderId = placed.reply.orderId
    await run(world, 500)
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    await crashWorld(world)
    const log = openReadOnly(join(world.dir, 'log'))
    let cut = 0
    for (const frame of log.read(1)) {
      const event = domainEventOf(frame)
      if (event?.type === 'order.call_completed' && (event as { orderId: string }).orderId === orderId) cut = frame.lsn
    }
    expect(cut).toBeGreaterThan(0)
    // The same log up to the place result's first event, as a standby would hold it had the stream cut it there.
    const dir = tempDataDir()
    const replica = Wal.openReplica(join(dir, 'log'), { durability: 'none' })
    for (const frame of log.read(1, { toLsn: cut })) await replica.appendFrames(rawFrameBytes(frame).slice())
    await replica.close()
    const restarted = await startWorld({ seed: 5, dir, clock: world.clock, venue: world.venue })
    worlds.push(restarted)
    await run(restarted, 10_000)
    // The venue holds the order resting; egress should find that out (reconcile) rather than keep it Sent for good.
    expect(restarted.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  })
})
