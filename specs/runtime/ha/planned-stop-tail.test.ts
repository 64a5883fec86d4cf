/**
 * A planned stop (SIGTERM) of an HA leader hands its log's tail to the standby before it lets the lease go: the
 * records of the last batch (orders answered 202 just before the signal, what the stop itself writes — the venue
 * sessions' end, the shutdown seal) reach the standby, which then takes over with the whole log. Before, the stop
 * closed the HTTP server (the replication stream with it) before its gateway stopped, and the stream ended as the log
 * closed: the standby took over without the stop's records (and without whatever it had not pulled yet), a log that
 * was not the old leader's, under `off` and `degrade_async` orders acknowledged 202 included.
 */

import { afterEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { ensureLocalSealKey } from '../../../src/audit/index.ts'
import { openReadOnly, toHex } from '../../../wal/index.ts'
import { removeTempDirs, tempDir } from '../../wal/support.ts'
import { Cluster, waitFor, type ClusterNode, type SyncPolicy } from './cluster.ts'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.stop()
  cluster?.remove()
  cluster = null
  removeTempDirs()
})

const ORDERS = 12

async function place(running: Cluster, node: ClusterNode, key: string): Promise<string> {
  const response = await fetch(`${node.url}/v1/orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${running.trader}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '58000' }),
  })
  const answer = (await response.json()) as { order_id?: string }
  if (response.status !== 202 || answer.order_id === undefined) throw new Error(`place ${key}: ${response.status} ${JSON.stringify(answer)}`)
  return answer.order_id
}

/** The chain hash of `logDir`'s frame at `lsn`, or null if it holds none there. */
function hashAt(logDir: string, lsn: number): string | null {
  for (const frame of openReadOnly(logDir).read(lsn, { toLsn: lsn })) return toHex(frame.hash)
  return null
}

const POLICIES: SyncPolicy[] = ['off', 'degrade_async', 'fail_closed']

test.each(POLICIES)('sync %s: SIGTERM of the leader, the standby takes over holding every record the leader wrote, its last 202s and its shutdown seal included', async (sync) => {
  const keyDir = tempDir('egress-seal-key-')
  // A seal key: a clean stop seals the log's head (gateway.ts), a record written after intake has stopped.
  const { privatePath } = await ensureLocalSealKey(keyDir)
  cluster = new Cluster({ leaseTtlMs: 2_000, clockSkewMs: 50, sync, syncTimeoutMs: 1_000, verbose: false, log: () => {}, config: { audit: { signingKeyFile: privatePath } } })
  const running = cluster
  await running.startVenue()
  const a = await running.addNode('node-a')
  const b = await running.addNode('node-b')
  running.spawn(a)
  await waitFor('node-a leading', 30_000, () => a.isReadyLeader(), () => a.stderr.slice(-10).join('\n'))
  running.spawn(b)
  await waitFor('node-b a replicating standby', 30_000, () => b.isReplicatingStandby(), () => b.stderr.slice(-10).join('\n'))
  // Under a synchronous policy the standby in sync first: every 202 below then waited for it.
  if (sync !== 'off') await waitFor('node-b in sync', 30_000, async () => (await a.health())?.ha?.sync?.state === 'sync', () => a.stderr.slice(-10).join('\n'))

  const orderIds = await Promise.all(Array.from({ length: ORDERS }, (_, i) => place(running, a, `tail-${i}`)))
  a.child?.kill('SIGTERM')
  expect(await a.child?.exited).toBe(0)
  await waitFor('node-b leading', 30_000, () => b.isReadyLeader(), () => b.stderr.slice(-10).join('\n'))

  const leaderLog = openReadOnly(join(a.dataDir, 'log'))
  const leaderLast = leaderLog.lastLsn
  const leaderHead = toHex(leaderLog.chainHead)
  // The standby's log holds the old leader's, frame for frame, through its last LSN (its new term follows).
  expect({ lsn: leaderLast, hash: hashAt(join(b.dataDir, 'log'), leaderLast) }).toEqual({ lsn: leaderLast, hash: leaderHead })
  for (const orderId of orderIds) expect(await running.hasOrder(b, orderId)).toBe(true)
  expect(a.stderr.join('\n')).toContain(`handed the tail to the standby through LSN ${leaderLast}`)
}, 90_000)
