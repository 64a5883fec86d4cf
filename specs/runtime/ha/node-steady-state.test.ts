/**
 * Every role change of an HA node ends leading, following, stopped or failed (src/runtime/ha/steady-state.ts): never
 * up but neither leading nor following. Before, only "a standby with no gateway" was caught (FOLLOW_FAILED); these
 * left the node stuck for good (found by a review, each reproduced here on the code before):
 *
 * - onGateway (serve binds its HTTP layer there) throwing in follow(): a standby with a gateway and no replicator;
 * - onGateway throwing for a takeover's leader gateway: that gateway kept running (ready, its lease still held) while
 *   the node followed again;
 * - the standby gateway's stop() failing in a takeover: `promoting` for good, renewing the lease, so no other node
 *   could lead;
 * - the deposed gateway's stop() throwing in a step-down: `stepping-down` for good.
 *
 * The throws are injected through the node's own options: its onGateway, and the gateways its startGateway returns.
 */

import { afterEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Lease, readCurrentLease, Wal } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import type { GatewayRole } from '../../../src/runtime/gateway.ts'
import { FollowFailedError, NodeStuckError, type HaNode } from '../../../src/runtime/ha/index.ts'
import { standbyOptionsOf, startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { waitFor } from './support.ts'
import { leaderOptionsOf, takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The node's failure once it has stopped for good; throws (saying where it stands) if it has not within 5 s. */
async function diedOf(node: HaNode, logLines: string[]): Promise<Error> {
  const died = await Promise.race([node.died, Bun.sleep(5_000).then(() => null)])
  if (died === null) throw new Error(`the node did not stop for good: role ${node.role}, gateway ${node.gateway?.role ?? 'none'}; ${logLines.join(' | ')}`)
  return died
}

/** Whether the log in `dataDir` can be opened for writing: no gateway of this process holds it any more. */
async function logIsFree(dataDir: string): Promise<boolean> {
  try {
    await Wal.openReplica(join(dataDir, 'log'), { durability: 'none' }).close()
    return true
  } catch {
    return false
  }
}

test('onGateway throws for the standby gateway of a follow after a failed takeover: FOLLOW_FAILED, that gateway stopped, not a standby without a replicator', async () => {
  const world = await startWorld({ seed: 91 })
  worlds.push(world)
  const roles: GatewayRole[] = []
  let handedOver = 0
  const { node, dataDir, leaseDir, logLines } = takeoverNode(
    cleanups,
    (dir, errors) => async (role) => {
      roles.push(role)
      if (role === 'leader') throw new Error('leader start fails (injected)')
      return Gateway.start(standbyOptionsOf(world, dir, errors))
    },
    {
      onGateway: () => {
        // The first standby gateway (at start-up) is taken; the one after the failed takeover is not.
        if (++handedOver === 2) throw new Error('the HTTP layer could not take the gateway (injected)')
      },
    },
  )
  await node.start()
  const died = await diedOf(node, logLines)
  expect(died).toBeInstanceOf(FollowFailedError)
  expect((died as FollowFailedError).code).toBe('FOLLOW_FAILED')
  expect(died.message).toBe('FOLLOW_FAILED: the node could not follow the leader again: the HTTP layer could not take the gateway (injected)')
  expect(roles).toEqual(['standby', 'leader', 'standby'])
  expect({ role: node.role, gateway: node.gateway, replicating: node.status().replicating }).toEqual({ role: 'failed', gateway: null, replicating: false })
  // The gateway nobody serves was stopped (its log closed), and the takeover's lease was given back.
  expect(await logIsFree(dataDir)).toBe(true)
  expect(readCurrentLease(leaseDir)?.expiresAtMs).toBe(0)
}, 30_000)

test("onGateway throws for a takeover's leader gateway: that gateway is stopped and the lease given back before the node follows again; the next takeover leads", async () => {
  const world = await startWorld({ seed: 92 })
  worlds.push(world)
  const leaders: Gateway[] = []
  let atFollowingAgain: { firstLeaderReady: boolean | undefined; leaseExpiresAtMs: number | undefined } | null = null
  const lease: { dir: string } = { dir: '' }
  const { node, leaseDir, logLines, errors } = takeoverNode(
    cleanups,
    (dir, gatewayErrors) => async (role, taken, beforeBootstrap) => {
      if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dir, gatewayErrors))
      if (taken === null) throw new Error('no lease')
      const leader = await Gateway.start(leaderOptionsOf(world, dir, gatewayErrors, taken, beforeBootstrap))
      leaders.push(leader)
      return leader
    },
    {
      onGateway: (gateway) => {
        if (gateway.role === 'leader' && leaders.length === 1) throw new Error('the HTTP layer could not take the leader gateway (injected)')
      },
      log: (line) => {
        // Where the node stands as it goes back to following after the failed takeover.
        if (line.startsWith('takeover at epoch ') && atFollowingAgain === null) {
          atFollowingAgain = { firstLeaderReady: leaders[0]?.ready, leaseExpiresAtMs: readCurrentLease(lease.dir)?.expiresAtMs }
        }
      },
    },
  )
  lease.dir = leaseDir
  cleanups.push(async () => {
    for (const leader of leaders) await leader.stop().catch(() => undefined)
  })
  await node.start()
  await waitFor(() => node.isLeader(), 10_000, `a leader at last (role ${node.role}; ${logLines.join(' | ')})`)
  // The first leader gateway was not left leading unseen, and its lease not left to expire.
  expect(atFollowingAgain as unknown).toEqual({ firstLeaderReady: false, leaseExpiresAtMs: 0 })
  expect(leaders).toHaveLength(2)
  expect(node.gateway).toBe(leaders[1] as Gateway)
  expect(node.failure).toBeNull()
  expect(errors).toEqual([])
}, 30_000)

test("a takeover whose standby gateway's stop fails: NODE_STUCK, the lease given back — not promoting on the lease for good", async () => {
  const world = await startWorld({ seed: 93 })
  worlds.push(world)
  const roles: GatewayRole[] = []
  const { node, leaseDir, logLines } = takeoverNode(cleanups, (dir, errors) => async (role, taken, beforeBootstrap) => {
    roles.push(role)
    if (role === 'leader') {
      if (taken === null) throw new Error('no lease')
      return Gateway.start(leaderOptionsOf(world, dir, errors, taken, beforeBootstrap))
    }
    const standby = await Gateway.start(standbyOptionsOf(world, dir, errors))
    const stop = standby.stop.bind(standby)
    standby.stop = async () => {
      await stop()
      throw new Error('the standby gateway did not stop cleanly (injected)')
    }
    return standby
  })
  await node.start()
  const died = await diedOf(node, logLines)
  expect(died).toBeInstanceOf(NodeStuckError)
  expect((died as NodeStuckError).code).toBe('NODE_STUCK')
  expect(died.message).toBe(
    'NODE_STUCK: the takeover left the node promoting, holding the lease, with a standby gateway, neither leading nor following: the standby gateway did not stop cleanly (injected)',
  )
  expect(roles).toEqual(['standby'])
  expect(node.role).toBe('failed')
  expect(node.status().failure).toStartWith('NODE_STUCK: ')
  // Given back at once (expiry 0), and not renewed after: another node can lead.
  await Bun.sleep(300)
  expect(readCurrentLease(leaseDir)?.expiresAtMs).toBe(0)
}, 30_000)

test("a step-down whose deposed gateway's stop throws: the node follows again or fails (here FOLLOW_FAILED: that gateway still holds the log) — not stepping-down for good", async () => {
  const world = await startWorld({ seed: 94 })
  worlds.push(world)
  let deposed: { gateway: Gateway; stop: () => Promise<void> } | null = null
  const roles: GatewayRole[] = []
  const { node, leaseDir, logLines } = takeoverNode(cleanups, (dir, errors) => async (role, taken, beforeBootstrap) => {
    roles.push(role)
    if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dir, errors))
    if (taken === null) throw new Error('no lease')
    const leader = await Gateway.start(leaderOptionsOf(world, dir, errors, taken, beforeBootstrap))
    deposed = { gateway: leader, stop: leader.stop.bind(leader) }
    leader.stop = () => {
      throw new Error('the deposed gateway did not stop (injected)')
    }
    return leader
  })
  cleanups.push(async () => {
    await (deposed as { stop: () => Promise<void> } | null)?.stop().catch(() => undefined)
  })
  await node.start()
  await waitFor(() => node.isLeader(), 10_000, `the takeover (${logLines.join(' | ')})`)
  // Another node takes the next epoch (its clock says this node's lease expired): this one must step down.
  Lease.acquire({ dir: leaseDir, holderId: 'other http://127.0.0.1:3', ttlMs: 60_000, clockSkewMsMax: 10, nowMs: () => Date.now() + 120_000 })
  const died = await diedOf(node, logLines)
  expect(died).toBeInstanceOf(FollowFailedError)
  expect(died.message).toStartWith('FOLLOW_FAILED: the node could not follow the leader again: ')
  expect(roles).toEqual(['standby', 'leader', 'standby'])
  expect(logLines).toContain('stopping the deposed gateway: Error: the deposed gateway did not stop (injected)')
  expect({ role: node.role, gateway: node.gateway, leading: node.isLeader() }).toEqual({ role: 'failed', gateway: null, leading: false })
}, 30_000)
