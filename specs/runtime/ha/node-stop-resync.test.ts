/**
 * An HA node stopped while it re-syncs: stop() resolves only once the re-sync has finished, rolled back or been
 * abandoned, so nothing of the node touches the data dir after it — a swap of `log/` still running then would run
 * under a process that believes it has stopped, or under the next one a supervisor started on the same directory.
 * Before, stop() stopped the replicator and the gateway and returned while the re-sync went on: the snapshot install
 * (or the setting aside of a diverged log) ran after stop() had resolved. (Found by a review.)
 *
 * - stopped during a snapshot install past its last request to the leader (a stop issued from inside the file-system
 *   call that starts writing the snapshot): the install finishes first; no gateway is started after it;
 * - stopped when a snapshot re-sync has begun but not yet changed the data dir: it is abandoned, nothing is installed.
 *
 * A re-sync waiting on the leader when stop() begins (the snapshot fetch, the install's catch-up pull, the search for
 * the shared LSN) is aborted rather than waited for: node-stop-abort.test.ts.
 */

import { afterEach, expect, test } from 'bun:test'
import { basename, join } from 'node:path'
import { nodeIo, openReadOnly, type WalIo } from '../../../wal/index.ts'
import { HaNode } from '../../../src/runtime/ha/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { compactingLeader, recoveringStandby, tradeUntilCompacted } from './compacting-leader.ts'
import { swapEntries, waitFor } from './support.ts'

afterEach(removeTempDirs)

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A few of the node's timers and the leader's answers: time enough for a re-sync left running to show itself. */
const SETTLE_MS = 1_000

/**
 * node:fs, counting the calls made after `stopResolved()` says stop() has resolved; `onCall` sees every call (its name
 * and first argument) first.
 */
function watchedIo(stopResolved: () => boolean, onCall: (call: string, path: unknown) => void): { io: WalIo; callsAfterStop: () => string[] } {
  const after: string[] = []
  const io = Object.fromEntries(
    Object.entries(nodeIo).map(([name, member]) => [
      name,
      typeof member !== 'function'
        ? member
        : (...args: unknown[]) => {
            onCall(name, args[0])
            if (stopResolved()) after.push(`${name}(${String(args[0])})`)
            return (member as (...a: unknown[]) => unknown).apply(nodeIo, args)
          },
    ]),
  ) as unknown as WalIo
  return { io, callsAfterStop: () => [...after] }
}

test('stopped during a snapshot install past its last request to the leader: stop() resolves once the install has finished, and nothing touches the data dir after it', async () => {
  const { world, url } = await compactingLeader(81, cleanups)
  await tradeUntilCompacted(world, 1, 81)
  let node: HaNode | null = null
  let stopping: Promise<void> | null = null
  let stopResolved = false
  let atStop: { entries: string[]; recovery: string | null } | null = null
  const watched = watchedIo(
    () => stopResolved,
    (call, path) => {
      // The install has pulled the leader's frames into log.recovering/ and begins to write the snapshot: stop now.
      if (stopping !== null || call !== 'mkdirp' || basename(String(path)) !== 'snapshots.recovering') return
      stopping = (node as HaNode).stop().then(() => {
        stopResolved = true
        atStop = { entries: swapEntries(options.dataDir), recovery: (node as HaNode).lastSnapshotRecovery?.state ?? null }
      })
    },
  )
  const { options, logLines } = recoveringStandby(world, url, cleanups, { io: watched.io })
  node = new HaNode(options)
  cleanups.push(() => node?.stop())
  await node.start()
  await waitFor(() => stopping !== null, 15_000, `the install to begin (${logLines.join(' | ')})`)
  await stopping
  // When stop() resolved the install was over: swapped in (the old log aside), nothing built left over, no commit
  // file pending — not half-way through pulling the leader's frames into log.recovering/.
  const resolvedAt = atStop as { entries: string[]; recovery: string | null } | null
  expect(resolvedAt?.recovery).toBe('recovered')
  expect(resolvedAt?.entries.filter((name) => !name.startsWith('log.compacted-') && !name.startsWith('snapshots.compacted-'))).toEqual([])
  expect(resolvedAt?.entries.filter((name) => name.startsWith('log.compacted-'))).toHaveLength(1)
  expect(openReadOnly(join(options.dataDir, 'log')).firstLsn).toBeGreaterThan(1)
  await Bun.sleep(SETTLE_MS)
  // And nothing after it: no gateway started on the new log, no file-system call on the data dir.
  expect({ role: node.role, gateway: node.gateway !== null, callsAfterStop: watched.callsAfterStop() }).toEqual({ role: 'stopped', gateway: false, callsAfterStop: [] })
  expect(logLines.some((line) => line.startsWith('standby from') && logLines.indexOf(line) > logLines.findIndex((l) => l.startsWith('snapshot recovery: ')))).toBe(false)
}, 60_000)

test('stopped when a snapshot re-sync has begun but changed nothing yet: it is abandoned, nothing is installed after stop()', async () => {
  const { world, url } = await compactingLeader(82, cleanups)
  await tradeUntilCompacted(world, 1, 82)
  let node: HaNode | null = null
  let stopping: Promise<void> | null = null
  let stopResolved = false
  const watched = watchedIo(() => stopResolved, () => {})
  const onLog = (line: string): void => {
    // The re-sync announces itself before it fetches the leader's snapshot: stop now.
    if (line.includes('recovering from its snapshot') && stopping === null) stopping = (node as HaNode).stop().then(() => void (stopResolved = true))
  }
  const { options, logLines } = recoveringStandby(world, url, cleanups, { io: watched.io, onLog })
  node = new HaNode(options)
  cleanups.push(() => node?.stop())
  await node.start()
  await waitFor(() => stopping !== null, 15_000, `the re-sync to begin (${logLines.join(' | ')})`)
  await stopping
  await Bun.sleep(SETTLE_MS)
  // The data dir is as the re-sync found it: nothing built, nothing swapped in, before stop() resolved or after.
  expect({ entries: swapEntries(options.dataDir), recovery: node.lastSnapshotRecovery, callsAfterStop: watched.callsAfterStop() }).toEqual({ entries: [], recovery: null, callsAfterStop: [] })
  expect(openReadOnly(join(options.dataDir, 'log')).lastLsn).toBe(0)
  // Abandoned before its fetch: stop() aborted the request as it began (stop-signal.ts), or the fetch was through.
  expect(logLines.filter((line) => line.startsWith('snapshot recovery abandoned'))).toHaveLength(1)
  expect(logLines.some((line) => line.startsWith('snapshot recovery failed'))).toBe(false)
}, 60_000)
