import { afterEach, describe, expect, test } from 'bun:test'
import { Wal, toHex } from '../../../wal/index.ts'
import { EnvelopeReader } from '../../../src/runtime/ha/envelope.ts'
import { replicationStream } from '../../../src/runtime/ha/stream.ts'
import { record, removeTempDirs, tempDir } from '../../wal/support.ts'
import { replicator, serveReplication, waitFor } from './support.ts'

afterEach(removeTempDirs)

describe('a replication stream whose log closes', () => {
  /**
   * A leader that steps down (its renewal found the lease expired by its own clock: an event loop stalled past the
   * lease's life) stops its gateway, which closes the log its streams read from. If the same node then wins the lease
   * again (the standby has to wait out the clock skew bound too), it leads with a new log at a new epoch on the same
   * URL. A stream still open on the closed log went on sending heartbeats with that log's last LSN for good: the
   * standby never noticed (heartbeats reset its silence timer), never reconnected, and never received a record of the
   * new term — every 202 of it missing from the standby that would take over next.
   */
  test('ends, so the standby reconnects and follows the log that replaced it', async () => {
    const dir = tempDir()
    const first = Wal.open(dir, { durability: 'none', epoch: 1 })
    await first.append([record('term-1-a'), record('term-1-b')])
    let current = first
    const server = serveReplication(() => current, undefined)
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    const pulling = replicator(replica, () => server.url, { silenceMsMax: 1_000 })
    pulling.start()
    await waitFor(() => replica.lastLsn === 2, 5_000, 'the first term replicated')
    // The step-down: the old gateway's log closes; the node leads again at the next epoch, on the same URL.
    await first.close()
    const second = Wal.open(dir, { durability: 'none', epoch: 2 })
    current = second
    await second.append([record('term-2-a'), record('term-2-b'), record('term-2-c')])
    const caughtUp = await waitFor(() => replica.lastLsn === 5, 3_000, 'the new term replicated').then(
      () => true,
      () => false,
    )
    expect({ caughtUp, lastLsn: replica.lastLsn }).toEqual({ caughtUp: true, lastLsn: 5 })
    expect(toHex(replica.chainHead)).toBe(toHex(second.chainHead))
    await pulling.stop()
    server.stop()
    await second.close()
    await replica.close()
  })

  /**
   * A leader's planned stop writes its last records (the stop's own, the shutdown seal), closes the log, and waits for
   * the standby to hold them before it releases the lease (tail-handoff.ts). The stream used to end as soon as the log
   * closed: records appended after the last envelope it sent never went out.
   */
  test('sends every frame the closed log holds before it ends', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none', epoch: 1 })
    await wal.append([record('a'), record('b')])
    const stream = replicationStream(wal, { fromLsn: 1, chunkBytesMax: 1 << 20, heartbeatMs: 10_000, signal: new AbortController().signal })
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    const reader = new EnvelopeReader({ envelopeBytesMax: 1 << 21 })
    const first = await stream.next()
    for (const envelope of reader.push(first.value as Uint8Array)) await replica.appendFrames(envelope.frames)
    // The stop's last records, then the close, while the stream waits for its reader.
    await wal.append([record('last-202'), record('seal')])
    await wal.close()
    for await (const bytes of stream) for (const envelope of reader.push(bytes)) if (envelope.frames.byteLength > 0) await replica.appendFrames(envelope.frames)
    expect({ lastLsn: replica.lastLsn, head: toHex(replica.chainHead) }).toEqual({ lastLsn: 4, head: toHex(wal.chainHead) })
    await replica.close()
  })
})
