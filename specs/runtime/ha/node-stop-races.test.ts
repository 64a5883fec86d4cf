/**
 * An HA node stopped while a role change is under way, and a takeover whose leader start fails part way: whatever
 * the change was waiting for when stop() began (a standby start, a leader start, a re-sync's backoff), stop() resolves
 * only once that change has ended, and nothing is left started — no gateway, no replicator, no timer, no lease kept —
 * since it would outlive the process's shutdown. And a leader start that fails after its log opened closes that log,
 * so the node can follow again. (Found by reviews, as reproductions that failed on the code before.)
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Lease, readCurrentLease } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { HaNode, roleChangeWaitMsMax, StopTimeoutError } from '../../../src/runtime/ha/index.ts'
import { removeDir, standbyOptionsOf, startWorld, tempDataDir, worldsStoppedAfterEach } from '../harness.ts'
import { TOKEN, waitFor } from './support.ts'
import { heldStandbyStop, leaderOptionsOf, takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const BACKOFF_MS_MAX = 200

test('stopped while a snapshot re-sync whose fetch failed waits out its backoff: no replicator starts after the stop', async () => {
  const world = await startWorld({ seed: 5 })
  worlds.push(world)
  // A fake leader: the first stream request answers RESYNC_REQUIRED, the snapshot fetch fails (500), later streams 503.
  let streams = 0
  let stopped = false
  let streamsAfterStop = 0
  const leader = Bun.serve({
    port: 0,
    fetch: (request) => {
      const path = new URL(request.url).pathname
      if (path === '/replication/stream') {
        streams++
        if (stopped) streamsAfterStop++
        if (streams === 1) {
          return Response.json({ error: { code: 'RESYNC_REQUIRED', message: 'compacted', details: { leader_first_lsn: 50 } } }, { status: 409 })
        }
        return new Response('unavailable', { status: 503 })
      }
      if (path === '/replication/snapshot') return new Response('no snapshot (injected)', { status: 500 })
      return new Response('not found', { status: 404 })
    },
  })
  const url = `http://127.0.0.1:${leader.port}`
  const leaseDir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  const lease = Lease.acquire({ dir: leaseDir, holderId: `leader ${url}`, ttlMs: 60_000, clockSkewMsMax: 100 })
  const dataDir = tempDataDir()
  const errors: string[] = []
  const logLines: string[] = []
  let node: HaNode | null = null
  let stopping: Promise<void> | null = null
  node = new HaNode({
    nodeId: 'standby',
    advertiseUrl: 'http://127.0.0.1:1',
    dataDir,
    leaseDir,
    leaseTtlMs: 60_000,
    clockSkewMsMax: 100,
    role: 'standby',
    replicationToken: TOKEN,
    startGateway: async () => Gateway.start(standbyOptionsOf(world, dataDir, errors)),
    onGateway: () => {},
    log: (line) => {
      logLines.push(line)
      // stop() begins exactly while the re-sync waits out its backoff (no timing involved).
      if (line.startsWith('snapshot recovery failed: ') && stopping === null) stopping = node?.stop().then(() => void (stopped = true)) ?? null
    },
    replication: { backoffMsMin: 10, backoffMsMax: BACKOFF_MS_MAX, envelopeBytesMax: 1024 * 1024, silenceMsMax: 1_000 },
  })
  cleanups.push(async () => {
    await node?.stop()
    leader.stop(true)
    lease.release()
    removeDir(leaseDir)
    removeDir(dataDir)
  })
  await node.start()
  await waitFor(() => stopping !== null, 10_000, 'the failed snapshot fetch')
  await stopping
  expect(node.role).toBe('stopped')
  await Bun.sleep(3 * BACKOFF_MS_MAX + 500)
  // No replicator was started on the stopped gateway after stop() returned: it would keep pulling from the leader
  // (and its timers would keep the process alive).
  expect({ streamsAfterStop, replicating: (node.status() as { replicating: boolean }).replicating, log: logLines.filter((l) => l.startsWith('replication:')).length }).toEqual({ streamsAfterStop: 0, replicating: false, log: 0 })
}, 30_000)

/** A promise and the function that settles it: a start held until the spec lets it go on. */
function gate(): { passed: Promise<void>; open: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>()
  return { passed: promise, open: () => resolve() }
}

/**
 * Stops `node` while `held` holds the role change in progress: stop() does not resolve while the change waits (it
 * would return with the change still to run), and does once the change is let go on.
 */
async function stopWhileHeld(node: HaNode, held: { open: () => void }): Promise<void> {
  let resolved = false
  const stopping = node.stop().then(() => void (resolved = true))
  await Bun.sleep(300)
  expect({ stopResolvedWhileTheChangeWaits: resolved }).toEqual({ stopResolvedWhileTheChangeWaits: false })
  held.open()
  await stopping
}

test('stopped while following again awaits its standby start (after a failed takeover): neither the gateway nor a replicator starts after the stop', async () => {
  const world = await startWorld({ seed: 8 })
  worlds.push(world)
  const roles: string[] = []
  const held = gate()
  let secondStandbyAsked = false
  const { node, logLines } = takeoverNode(cleanups, (dataDir, errors) => async (role) => {
    roles.push(role)
    if (role === 'leader') throw new Error('leader start fails (injected)')
    if (roles.length > 1) {
      secondStandbyAsked = true
      await held.passed
    }
    return Gateway.start(standbyOptionsOf(world, dataDir, errors))
  })
  await node.start()
  await waitFor(() => secondStandbyAsked, 5_000, 'the standby start after the failed takeover')
  await stopWhileHeld(node, held)
  const linesAtStop = logLines.length
  expect(node.role).toBe('stopped')
  await Bun.sleep(300)
  const replicationLines = logLines.slice(linesAtStop).filter((line) => line.startsWith('replication:') || line.startsWith('standby from')).length
  expect({ gatewayAfterStop: node.gateway !== null, replicationLines, role: node.role }).toEqual({ gatewayAfterStop: false, replicationLines: 0, role: 'stopped' })
}, 30_000)

test('stopped while a takeover awaits its leader start: the node does not lead, holds no lease, and reads stopped', async () => {
  const world = await startWorld({ seed: 9 })
  worlds.push(world)
  const held = gate()
  let leaderAsked = false
  const { node, leaseDir } = takeoverNode(cleanups, (dataDir, errors) => async (role, lease, beforeBootstrap) => {
    if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
    leaderAsked = true
    await held.passed
    if (lease === null) throw new Error('no lease')
    return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
  })
  await node.start()
  await waitFor(() => leaderAsked, 5_000, 'the takeover')
  await stopWhileHeld(node, held)
  await Bun.sleep(300)
  const current = readCurrentLease(leaseDir)
  expect({ role: node.role, gateway: node.gateway !== null, leaseHeldByUs: current?.holderId === node.holderId && (current?.expiresAtMs ?? 0) > 0 }).toEqual({ role: 'stopped', gateway: false, leaseHeldByUs: false })
}, 30_000)

test("stopped while a takeover awaits its standby gateway's stop: no leader is started after the stop, the lease is given back", async () => {
  const world = await startWorld({ seed: 31 })
  worlds.push(world)
  const held = gate()
  const roles: string[] = []
  let standbyStopping = false
  const { node, leaseDir } = takeoverNode(cleanups, heldStandbyStop(world, held.passed, () => (standbyStopping = true), roles))
  await node.start()
  await waitFor(() => standbyStopping, 5_000, "the takeover stopping its standby gateway")
  await stopWhileHeld(node, held)
  await Bun.sleep(300)
  const current = readCurrentLease(leaseDir)
  expect({ roles, role: node.role, gateway: node.gateway !== null, leaseHeldByUs: current?.holderId === node.holderId && (current?.expiresAtMs ?? 0) > 0 }).toEqual({
    roles: ['standby'],
    role: 'stopped',
    gateway: false,
    leaseHeldByUs: false,
  })
}, 30_000)

test("stopped while a takeover's leader start, already through, has not returned: that leader gateway is stopped, the node does not lead", async () => {
  const world = await startWorld({ seed: 12 })
  worlds.push(world)
  const held = gate()
  let leader: Gateway | null = null
  const { node } = takeoverNode(cleanups, (dataDir, errors) => async (role, lease, beforeBootstrap) => {
    if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
    if (lease === null) throw new Error('no lease')
    // The leader start gets all the way through while the lease is held, and returns only after stop() began.
    leader = await Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    await held.passed
    return leader
  })
  await node.start()
  await waitFor(() => leader !== null, 5_000, 'the leader start through')
  await stopWhileHeld(node, held)
  await Bun.sleep(300)
  expect({ role: node.role, gateway: node.gateway !== null, leaderStillReady: (leader as Gateway | null)?.ready, leading: node.isLeader() }).toEqual({ role: 'stopped', gateway: false, leaderStillReady: false, leading: false })
}, 30_000)

test('a takeover whose leader start fails inside Gateway.start (after its log opened): the log is closed, so the node follows again (no FOLLOW_FAILED) and tries again later', async () => {
  const world = await startWorld({ seed: 10 })
  worlds.push(world)
  const roles: string[] = []
  const { node, logLines } = takeoverNode(cleanups, (dataDir, errors) => async (role, lease) => {
    roles.push(role)
    if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
    if (lease === null) throw new Error('no lease')
    // A leader start that fails in its bootstrap (after Wal.open), as a bootstrap that cannot write would.
    return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, () => {
      throw new Error('bootstrap failed (injected)')
    }))
  })
  await node.start()
  await waitFor(() => roles.length >= 5, 10_000, `two takeovers tried (roles ${roles.join(',')}; ${logLines.join(' | ')})`)
  // Each failed leader start was followed by a standby start that opened the same log: it had been closed.
  expect(roles.slice(0, 5)).toEqual(['standby', 'leader', 'standby', 'leader', 'standby'])
  expect(node.failure).toBeNull()
  expect(logLines.some((line) => line.includes('FOLLOW_FAILED'))).toBe(false)
}, 30_000)

test('stopped while start() awaits its first standby start: no timer, replicator or gateway is left after the stop', async () => {
  const world = await startWorld({ seed: 11 })
  worlds.push(world)
  const held = gate()
  let asked = false
  const { node } = takeoverNode(
    cleanups,
    (dataDir, errors) => async () => {
      asked = true
      await held.passed
      return Gateway.start(standbyOptionsOf(world, dataDir, errors))
    },
    { oldLeader: false, leaseTtlMs: 60_000 },
  )
  const starting = node.start()
  await waitFor(() => asked, 5_000, 'the first start')
  await stopWhileHeld(node, held)
  await starting
  const internals = node as unknown as { timer: unknown; replicator: unknown }
  expect({ timer: internals.timer !== null, replicator: internals.replicator !== null, gateway: node.gateway !== null }).toEqual({ timer: false, replicator: false, gateway: false })
}, 30_000)

test('a role change that outlives the bound: stop() rejects with STOP_TIMEOUT (it does not hang), having stopped what it could', async () => {
  const world = await startWorld({ seed: 13 })
  worlds.push(world)
  const held = gate()
  let leaderAsked = false
  const snapshotRecovery = { bytesMax: 1024 * 1024, timeoutMs: 100, keep: 2 }
  const { node, leaseDir } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
      // A leader start that never ends while the spec holds it (a venue that never answers, say).
      leaderAsked = true
      await held.passed
      if (lease === null) throw new Error('no lease')
      return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    },
    { snapshotRecovery },
  )
  cleanups.push(() => held.open()) // runs before the node's own cleanup: its stop() then finds the change ended
  await node.start()
  await waitFor(() => leaderAsked, 5_000, 'the takeover')
  // 2 × 100 ms (snapshot recovery) + 50 ms (backoff) + 2 × 200 ms (lease TTL): roleChangeWaitMsMax.
  const waitMsMax = roleChangeWaitMsMax({ snapshotRecovery, replication: { backoffMsMin: 10, backoffMsMax: 50, envelopeBytesMax: 1024 * 1024, silenceMsMax: 500 }, leaseTtlMs: 200 })
  expect(waitMsMax).toBe(650)
  const startedMs = Date.now()
  const stopped = await node.stop().then(() => null, (error: unknown) => error)
  const tookMs = Date.now() - startedMs
  expect(stopped).toBeInstanceOf(StopTimeoutError)
  expect(stopped).toMatchObject({ code: 'STOP_TIMEOUT', change: 'takeover', waitMsMax })
  expect((stopped as Error).message).toStartWith('STOP_TIMEOUT: ')
  // Not before the bound; and not hanging (a generous margin for a loaded machine).
  expect(tookMs).toBeGreaterThanOrEqual(waitMsMax)
  expect(tookMs).toBeLessThan(waitMsMax + 10_000)
  // What stop() could reach was stopped all the same: the lease the takeover took is given back, no timer runs.
  const internals = node as unknown as { timer: unknown }
  expect({ role: node.role, timer: internals.timer !== null, leaseExpiresAtMs: readCurrentLease(leaseDir)?.expiresAtMs }).toEqual({ role: 'stopped', timer: false, leaseExpiresAtMs: 0 })
}, 30_000)
