/**
 * A standby joining a leader whose log is already compacted, on real processes (scripts/standby-recovery-check.ts and
 * specs/runtime/ha/snapshot-recovery-process.test.ts): an external sim venue and `egress serve --role auto` nodes as
 * in the failover drill (cluster.ts), with a config that snapshots every 500 records and deletes the segments below
 * (1 MiB segments, the smallest allowed; the audit self-check, which compaction waits for, every 2 s). node-a leads
 * alone under order load until its log no longer starts at LSN 1; node-b then starts empty and must recover from
 * node-a's snapshot (src/runtime/ha/snapshot-recovery.ts): `ha.last_snapshot_recovery.state = recovered`, replicating
 * with no lag, its log starting at the snapshot's LSN. `compactedLeader` and `standbyRecovered` are the two halves, for
 * specs that start node-b their own way (specs/cli/serve-ha-fsync-failure.test.ts).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatDecimal } from '../../../src/domain/decimal.ts'
import { Cluster, waitFor, type ClusterNode } from './cluster.ts'

export interface RecoveryCheck {
  ok: boolean
  leaderFirstLsn: number
  snapshotLsn: number | null
  standbyFirstLsn: number
  standbyLastLsn: number
  recoveredInMs: number
  ordersAccepted: number
  recovery: unknown
}

export interface NodeHealth {
  ha?: { replicating: boolean; lag_records: number; last_snapshot_recovery: { state: string; snapshot_lsn?: number; code?: string } | null }
  log: { first_lsn: number; last_lsn: number }
}

/** A cluster whose node-a leads and has compacted its log (no longer starting at LSN 1); node-b added, not started. */
export interface CompactedLeader {
  cluster: Cluster
  leader: ClusterNode
  standby: ClusterNode
  /** node-a's log once compacted. */
  leaderLog: NodeHealth['log']
  ordersAccepted: number
  /** Stops every process and removes the files (unless `keep`). */
  close(): Promise<void>
}

export async function compactedLeader(options: { keep: boolean; log: (line: string) => void }): Promise<CompactedLeader> {
  const { log } = options
  const configDir = mkdtempSync(join(tmpdir(), 'egress-recovery-config-'))
  const configPath = join(configDir, 'config.json')
  // Compaction waits for the audit self-check to cover the segments (30 s apart by default): every 2 s here, so the
  // leader compacts once its first segment is full, not half a minute in. The account's order bucket (100/s by
  // default) is raised so that segment fills in seconds and the placing loops are not answered 429 meanwhile.
  const backpressure = { account: { ratePerSec: 10_000, burst: 10_000 } }
  writeFileSync(configPath, JSON.stringify({
    wal: { segmentBytesMax: 1024 * 1024 },
    snapshots: { everyRecords: 500, keep: 2, compaction: 'delete' },
    audit: { selfCheckEveryMs: 2_000 },
    backpressure,
  }))
  const cluster = new Cluster({ leaseTtlMs: 1_000, clockSkewMs: 100, sync: 'off', syncTimeoutMs: 1_000, verbose: false, log, env: { EGRESS_CONFIG: configPath } })
  const close = async (): Promise<void> => {
    await cluster.stop()
    if (options.keep) log(`kept ${cluster.work}`)
    else cluster.remove()
    rmSync(configDir, { recursive: true, force: true })
  }
  try {
    await cluster.startVenue()
    const [leader, standby] = [await cluster.addNode('node-a'), await cluster.addNode('node-b')]
    cluster.spawn(leader)
    await waitFor('node-a leading', 30_000, () => leader.isReadyLeader())
    const reference = cluster.venue?.referencePrice('BTC-USD') ?? null
    const price = reference === null ? '60000' : formatDecimal(reference.price)
    let accepted = 0
    let sequence = 0
    const started = Date.now()
    const place = async (): Promise<void> => {
      while (((await leader.health()) as unknown as NodeHealth | null)?.log.first_lsn === 1 && Date.now() - started < 60_000) {
        const response = await fetch(`${leader.url}/v1/orders`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${cluster.trader}`, 'Content-Type': 'application/json', 'Idempotency-Key': `fill-${sequence++}` },
          body: JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price }),
        })
        if (response.status === 202) accepted++
        await response.body?.cancel()
      }
    }
    await Promise.all(Array.from({ length: 8 }, place))
    const compacted = (await leader.health()) as unknown as NodeHealth
    log(`node-a compacted after ${accepted} accepted orders in ${Date.now() - started} ms: log ${compacted.log.first_lsn}..${compacted.log.last_lsn}`)
    return { cluster, leader, standby, leaderLog: compacted.log, ordersAccepted: accepted, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** Waits until node-b (started) has recovered from node-a's snapshot and replicates with no lag; its health then. */
export async function standbyRecovered(setup: CompactedLeader): Promise<NodeHealth> {
  let lastProbe: NodeHealth | null = null
  return waitFor('node-b recovered and replicating', 60_000, async () => {
    const probe = (await setup.standby.health()) as unknown as NodeHealth | null
    lastProbe = probe
    return probe?.ha?.replicating === true && probe.ha.last_snapshot_recovery !== null && probe.ha.lag_records === 0 ? probe : null
  }, () => [
    `node-b's last health: ${JSON.stringify(lastProbe)}`,
    `node-a's log: ${JSON.stringify(setup.leaderLog)} when node-b started`,
    `node-b's last stderr lines:`, ...setup.standby.stderr.slice(-20),
  ].join('\n'))
}

export async function runRecoveryCheck(options: { keep: boolean; log: (line: string) => void }): Promise<RecoveryCheck> {
  const { log } = options
  const setup = await compactedLeader(options)
  try {
    const joinedAt = Date.now()
    setup.cluster.spawn(setup.standby)
    const health = await standbyRecovered(setup)
    const recovery = health.ha?.last_snapshot_recovery ?? null
    log(`node-b: ${JSON.stringify(recovery)}, log ${health.log.first_lsn}..${health.log.last_lsn}`)
    return {
      ok: recovery?.state === 'recovered' && health.log.first_lsn === recovery.snapshot_lsn && setup.leaderLog.first_lsn > 1,
      leaderFirstLsn: setup.leaderLog.first_lsn,
      snapshotLsn: recovery?.snapshot_lsn ?? null,
      standbyFirstLsn: health.log.first_lsn,
      standbyLastLsn: health.log.last_lsn,
      recoveredInMs: Date.now() - joinedAt,
      ordersAccepted: setup.ordersAccepted,
      recovery,
    }
  } finally {
    await setup.close()
  }
}
