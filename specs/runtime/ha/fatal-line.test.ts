/**
 * The line a node logs when it stops for good says what failed and what a restart does. One SyncFailedError class
 * covers a failed fsync in a data dir swap and one of the log, a compaction or a snapshot (the log dies of those), and
 * every failed fsync was told "restart it, and it finishes or rolls back the data dir's swap": for a snapshot's or a
 * compaction's fsync there is no swap, and an operator went looking for one.
 */

import { afterEach, expect, test } from 'bun:test'
import { SyncFailedError } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { fatalSyncs, restartAdviceAfter } from '../../../src/runtime/ha/durable-fs.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { leaderOptionsOf, takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The SyncFailedError a `fatalSyncs` io throws (the swaps' file-system calls) when fsync fails. */
function swapSyncFailure(): SyncFailedError {
  const failing = fatalSyncs({ fsync: () => { throw new Error('EIO: injected') } } as never)
  try {
    failing.fsync(7)
  } catch (error) {
    if (error instanceof SyncFailedError) return error
  }
  throw new Error('expected a SyncFailedError')
}

test('the advice names the fsync that failed: a swap is finished or rolled back; a snapshot or compaction is not a swap', () => {
  expect(restartAdviceAfter(swapSyncFailure())).toBe("restart it, and it finishes or rolls back the data dir's swap from what is on disk")
  const snapshot = new SyncFailedError('snapshots', new Error('EIO'), { during: 'while writing snapshots' })
  expect(restartAdviceAfter(new Error('the log is stopped', { cause: snapshot }))).toBe('an fsync failed while writing snapshots, outside any data dir swap: restart it once the disk is fixed, and it recovers from the log on disk')
  expect(restartAdviceAfter(new SyncFailedError('file descriptor 9', new Error('EIO')))).toContain('an fsync failed of file descriptor 9, outside any data dir swap')
  expect(restartAdviceAfter(new Error('follow failed'))).toBe('restart it once the cause is fixed')
})

test("a leader whose log dies of a snapshot's failed fsync logs that, not a swap to finish", async () => {
  const world = await startWorld({ seed: 97 })
  worlds.push(world)
  const { node, logLines } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role !== 'leader' || lease === null) throw new Error(`expected to lead at once, asked for a ${role} gateway`)
      return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    },
    { oldLeader: false, role: 'auto', leaseTtlMs: 300 },
  )
  await node.start()
  const wal = node.gateway?.engine.wal
  if (wal === undefined) throw new Error('a leader with no gateway')
  // What the snapshotter does when the snapshot store's fsync fails (snapshotter.ts).
  const failure = new SyncFailedError('snapshots', new Error('EIO (injected)'), { during: 'while writing snapshots' })
  wal.halt(`${failure.message}; the log is stopped and the process must restart`, failure)
  await Promise.race([node.died, Bun.sleep(3_000)])
  const fatal = logLines.find((line) => line.startsWith('fatal: '))
  expect(fatal).toContain('the node stops: an fsync failed while writing snapshots, outside any data dir swap')
  expect(fatal).not.toContain("the data dir's swap")
}, 30_000)
