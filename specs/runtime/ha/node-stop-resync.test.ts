/**
 * An HA node stopped while it re-syncs: stop() resolves only once the re-sync has finished, rolled back or been
 * abandoned, so nothing of the node touches the data dir after it — a swap of `log/` still running then would run
 * under a process that believes it has stopped, or under the next one a supervisor started on the same directory.
 * Before, stop() stopped the replicator and the gateway and returned while the re-sync went on: the snapshot install
 * (or the setting aside of a diverged log) ran after stop() had resolved. (Found by a review.)
 *
 * - stopped during a snapshot install (a stop issued from inside its first file-system call): the install finishes
 *   first; no gateway is started after it;
 * - stopped when a snapshot re-sync has begun but not yet changed the data dir: it is abandoned, nothing is installed;
 * - stopped while a diverged standby searches the LSN it shares with the leader: abandoned before anything is set
 *   aside.
 */

import { afterEach, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { nodeIo, openReadOnly, toHex, Wal, type WalIo } from '../../../wal/index.ts'
import { chainHashAt, HaNode } from '../../../src/runtime/ha/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { compactingLeader, recoveringStandby, tradeUntilCompacted } from './compacting-leader.ts'
import { forkedPair, rejoiningNode } from './forked-pair.ts'
import { waitFor } from './support.ts'

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

/** The entries of a data dir that only a swap in progress (or one done) leaves: built, set aside, committed. */
function swapEntries(dataDir: string): string[] {
  return readdirSync(dataDir)
    .filter((name) => name.includes('.recovering') || name.startsWith('log.') || name.startsWith('snapshots.') || name.endsWith('.commit'))
    .sort()
}

test('stopped during a snapshot install: stop() resolves once the install has finished, and nothing touches the data dir after it', async () => {
  const { world, url } = await compactingLeader(81, cleanups)
  await tradeUntilCompacted(world, 1, 81)
  let node: HaNode | null = null
  let stopping: Promise<void> | null = null
  let stopResolved = false
  let atStop: { entries: string[]; recovery: string | null } | null = null
  const watched = watchedIo(
    () => stopResolved,
    (call, path) => {
      // The install has begun (the new log's first segment is being created in log.recovering/): stop now.
      if (stopping !== null || call !== 'openAppend' || basename(dirname(String(path))) !== 'log.recovering') return
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
  expect(logLines).toContain('snapshot recovery abandoned before the install: the node is stopping')
}, 60_000)

test('stopped while a diverged standby searches the LSN it shares with the leader: stop() waits for the search, and nothing is set aside', async () => {
  const release = Promise.withResolvers<void>()
  let held = false
  const leader: { wal: Wal | null } = { wal: null }
  const pair = await forkedPair(83, {
    intercept: (url) => {
      if (url.pathname !== '/replication/hash' || held) return undefined
      // The first chain-hash request is held until the spec lets it go (the search is under way), then answered as
      // B answers it.
      held = true
      const lsn = Number(url.searchParams.get('lsn'))
      return release.promise.then(() => {
        const hash = chainHashAt(leader.wal as Wal, lsn)
        return hash === null ? new Response('not held', { status: 404 }) : Response.json({ lsn, hash: toHex(hash) })
      })
    },
  })
  leader.wal = pair.b.gateway.engine.wal
  cleanups.push(pair.cleanup)
  cleanups.push(() => release.resolve())
  const rejoin = rejoiningNode(pair)
  cleanups.push(() => rejoin.node.stop())
  await rejoin.node.start()
  await waitFor(() => held, 15_000, `the search for the shared LSN (${rejoin.logLines.join(' | ')})`)
  let stopResolved = false
  const stopping = rejoin.node.stop().then(() => void (stopResolved = true))
  await Bun.sleep(300)
  // The search still waits for the leader: stop() waits for it rather than return with the re-sync still to run.
  expect({ stopResolvedDuringTheSearch: stopResolved }).toEqual({ stopResolvedDuringTheSearch: false })
  release.resolve()
  await stopping
  await Bun.sleep(SETTLE_MS)
  // Abandoned before setting anything aside: A's log is whole, as its crash left it.
  expect(swapEntries(pair.a.dir)).toEqual([])
  expect(openReadOnly(join(pair.a.dir, 'log')).lastLsn).toBe(pair.a.lastLsn)
  expect(rejoin.node.lastDivergence).toBeNull()
  expect(rejoin.logLines.some((line) => line.startsWith('re-sync abandoned before setting the records after LSN '))).toBe(true)
  expect(rejoin.node.role).toBe('stopped')
  // The gateway the abandoned re-sync left the node was stopped by stop(): its log is free to open again.
  const reopened = Wal.openReplica(join(pair.a.dir, 'log'), { durability: 'none' })
  await reopened.close()
}, 60_000)
