/**
 * A leader that compacts its log below the next LSN a live stream is to send (a standby behind, a snapshot taken
 * meanwhile) ends the stream (src/runtime/ha/stream.ts): the standby asks again and is told RESYNC_REQUIRED at once.
 * The stream used to read on from the log's new first LSN (wal/reader.ts clamps to it) and send that envelope, up to
 * twice chunkBytesMax read and sent past a gap, which the standby refused (LSN_GAP) and logged as a bad frame before
 * asking again. A backup (compaction-race.ts) takes the end as it took the gap: confirmed by asking again.
 */

import { afterEach, expect, test } from 'bun:test'
import { Wal, toHex } from '../../../wal/index.ts'
import { EnvelopeReader } from '../../../src/runtime/ha/envelope.ts'
import { replicationStream } from '../../../src/runtime/ha/stream.ts'
import { record, removeTempDirs, tempDir } from '../../wal/support.ts'
import { TOKEN, replicationApp } from './support.ts'
import { standbyRequestHeaders } from '../../../src/runtime/ha/index.ts'

afterEach(removeTempDirs)

test('compacted below the next LSN to send: the stream ends, no envelope past the gap; asked again, RESYNC_REQUIRED', async () => {
  const wal = Wal.open(tempDir(), { durability: 'none', segmentBytesMax: 4096 })
  for (let batch = 0; batch < 40; batch++) await wal.append([record(`record-${batch}-${'x'.repeat(200)}`)])
  expect(wal.segments.length).toBeGreaterThan(2)
  const abort = new AbortController()
  // Small chunks: the first envelope holds the first frames only, the standby still far behind.
  const stream = replicationStream(wal, { fromLsn: 1, chunkBytesMax: 512, heartbeatMs: 10_000, signal: abort.signal })
  const reader = new EnvelopeReader({ envelopeBytesMax: 1 << 20 })
  const first = await stream.next()
  const sent = reader.push(first.value as Uint8Array)
  const replica = Wal.openReplica(tempDir(), { durability: 'none' })
  for (const envelope of sent) await replica.appendFrames(envelope.frames)
  expect(replica.lastLsn).toBeLessThan(5)
  // A snapshot near the end, and the log compacted below it, while the stream waits for its reader.
  wal.removeSegmentsBelow(wal.lastLsn)
  expect(wal.firstLsn).toBeGreaterThan(replica.lastLsn + 1)
  const next = await stream.next()
  const after = next.done === true ? [] : reader.push(next.value)
  expect({ done: next.done, envelopes: after.length }).toEqual({ done: true, envelopes: 0 })
  abort.abort()
  const again = await replicationApp(() => wal).request(`/replication/stream?from_lsn=${replica.lastLsn + 1}&head=${toHex(replica.chainHead)}`, { headers: standbyRequestHeaders(TOKEN) })
  expect({ status: again.status, code: ((await again.json()) as { error: { code: string } }).error.code }).toEqual({ status: 409, code: 'RESYNC_REQUIRED' })
  await replica.close()
  await wal.close()
})
