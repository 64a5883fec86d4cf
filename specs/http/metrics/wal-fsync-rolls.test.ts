/**
 * egress_wal_fsync_seconds has a sample for each of the log's fdatasyncs. It took one per group-commit batch, reading
 * the stats' last sync; a batch that fills its segment syncs the part written there before the roll (on the event
 * loop: wal/segment-writer.ts syncPartNow), then its own rest, so the roll's sync was never observed: on small segments
 * the histogram's count and sum fell short of the log's own (Wal.stats fsyncCount, fsyncMsTotal).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { LIMIT_BUY, post, startTestGateway, type TestGateway } from '../fixture.ts'
import { parseExposition } from './exposition.ts'

let t: TestGateway

beforeAll(async () => {
  t = await startTestGateway({ config: { wal: { durability: 'fsync' } }, wal: { durability: 'fsync', segmentBytesMax: 8192 } })
})
afterAll(async () => t.stop())

async function fsyncHistogram(): Promise<{ count: number; sum: number }> {
  const exposition = parseExposition(await (await t.request('/metrics')).text())
  expect(exposition.problems).toEqual([])
  const samples = exposition.families.get('egress_wal_fsync_seconds')?.samples ?? []
  const value = (suffix: string): number => samples.find((sample) => sample.name === `egress_wal_fsync_seconds${suffix}`)?.value ?? Number.NaN
  return { count: value('_count'), sum: value('_sum') }
}

test("every fdatasync of the log is a sample, a segment roll's included", async () => {
  const trader = await t.token({})
  const wal = t.gateway.engine.wal
  const before = { histogram: await fsyncHistogram(), fsyncs: wal.stats.fsyncCount, fsyncMs: wal.stats.fsyncMsTotal, segments: wal.segments.length }
  for (let index = 0; index < 30; index++) {
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `fsync-roll-${index}` }))).status).toBe(202)
  }
  // The executor's sends and the venue's answers are written too; the log stands still once the orders rest.
  let lastLsn = -1
  while (lastLsn !== wal.lastLsn) {
    lastLsn = wal.lastLsn
    await Bun.sleep(100)
  }
  const after = await fsyncHistogram()
  expect(wal.segments.length).toBeGreaterThan(before.segments + 2)
  expect(after.count - before.histogram.count).toBe(wal.stats.fsyncCount - before.fsyncs)
  expect(after.sum - before.histogram.sum).toBeCloseTo((wal.stats.fsyncMsTotal - before.fsyncMs) / 1000, 6)
})
