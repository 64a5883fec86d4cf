/**
 * The HA test cluster (cluster.ts) picks each node's port with freePort() before any node listens: the OS may hand
 * the same just-released port out twice, and a node started on a port another took dies LISTEN_FAILED (seen in
 * `scripts/failover-drill.ts --cycles 2 --stop`: node-b given node-a's port, the drill failed). serve refuses a taken
 * port before it writes anything, so the cluster now starts such a node again on a fresh port, its data dir as it was.
 * Here freePort's double answer is forced: node-b is given node-a's port.
 */

import { afterEach, expect, test } from 'bun:test'
import { Cluster, waitFor, type ClusterNode } from './cluster.ts'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.stop()
  cluster?.remove()
  cluster = null
})

const lastLines = (node: ClusterNode) => () => node.stderr.slice(-10).join('\n')
const refusedListen = (node: ClusterNode): boolean => node.stderr.some((line) => line.startsWith('egress serve: LISTEN_FAILED:'))

async function pair(logged: string[]): Promise<{ running: Cluster; a: ClusterNode; b: ClusterNode; port: number }> {
  cluster = new Cluster({ leaseTtlMs: 2_000, clockSkewMs: 50, sync: 'off', syncTimeoutMs: 1_000, verbose: false, log: (line) => logged.push(line) })
  const running = cluster
  await running.startVenue()
  const a = await running.addNode('node-a')
  const b = await running.addNode('node-b')
  // What freePort() answered twice.
  b.port = a.port
  return { running, a, b, port: a.port }
}

test('two nodes given one port, started together: both start, the one refused the port on a fresh one', async () => {
  const logged: string[] = []
  const { running, a, b, port } = await pair(logged)
  running.spawn(a)
  running.spawn(b)
  await waitFor('a leader and a replicating standby', 60_000, async () => {
    const roles = await Promise.all([a, b].map(async (node) => (await node.isReadyLeader()) ? 'leader' : (await node.isReplicatingStandby()) ? 'standby' : null))
    return roles.includes('leader') && roles.includes('standby')
  }, () => `${lastLines(a)()}\n${lastLines(b)()}`)
  // Exactly one lost the port; it runs on another one now, the other kept it.
  expect([refusedListen(a), refusedListen(b)].filter(Boolean)).toHaveLength(1)
  const [kept, moved] = refusedListen(a) ? [b, a] : [a, b]
  expect(kept.port).toBe(port)
  expect(moved.port).not.toBe(port)
  expect(logged).toEqual([`${moved.name}: port ${port} was taken before the node bound it; starting it again on ${moved.port}`])
}, 90_000)

test('a node started on the port its leader holds: it starts on a fresh one and follows', async () => {
  const logged: string[] = []
  const { running, a, b, port } = await pair(logged)
  running.spawn(a)
  await waitFor('node-a leading', 30_000, () => a.isReadyLeader(), lastLines(a))
  running.spawn(b)
  await waitFor('node-b a replicating standby', 30_000, () => b.isReplicatingStandby(), lastLines(b))
  expect(refusedListen(b)).toBe(true)
  expect({ a: a.port, bMoved: b.port !== port }).toEqual({ a: port, bMoved: true })
  expect(await a.isReadyLeader()).toBe(true)
}, 90_000)
