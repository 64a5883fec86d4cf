/**
 * Where a gateway's start gets its state from: the snapshot policy (validated) and the store in `dataDir/snapshots`,
 * and the state rebuilt from the newest usable snapshot plus the log after it. Shared by the leader's and the
 * standby's start (gateway.ts).
 */

import { join } from 'node:path'
import { keyResolverOf, verifyingKeySource, type SealKeyResolver } from '../audit/index.ts'
import { nodeIo, type Wal } from '../../wal/index.ts'
import { anchorsPathOf, refuseLogBehindAnchors } from './anchors-behind.ts'
import { backupManifestCheck } from './backup/manifest.ts'
import type { Engine } from './engine.ts'
import { refuseOrdersOnGoneVenues } from './venue-gone.ts'
import type { GatewayOptions } from './gateway-options.ts'
import { defaultSnapshotPolicy, describeRejection, restoreEngine, RestoreError, sealVerdicts, snapshotPolicyProblem, SnapshotStore, type Restored, type SnapshotPolicy } from './snapshot/index.ts'

/** The snapshot policy (validated) and the store in `dataDir/snapshots`, as both leader and standby start them. */
export function snapshotsOf(options: GatewayOptions): { policy: SnapshotPolicy; store: SnapshotStore } {
  const policy: SnapshotPolicy = { ...defaultSnapshotPolicy(), ...options.snapshots }
  const problem = snapshotPolicyProblem(policy)
  if (problem !== null) throw new RangeError(problem)
  const store = new SnapshotStore(join(options.dataDir, 'snapshots'), { io: policy.io ?? options.wal.io ?? nodeIo, keep: policy.keep })
  return { policy, store }
}

/**
 * A single node writing with durability `fsync` refuses a log that ends before its anchors file (LOG_BEHIND_ANCHOR,
 * anchors-behind.ts), closing the log; an HA node or a log under durability `none` is not judged (the file says why).
 * A single node refuses, whatever its durability, a log that ends before the end of the backup it was restored from
 * (BACKUP_TRUNCATED, or another head there: backup/manifest.ts): `egress backup` fsynced every record to there, so
 * a shorter log is a copy of the backup cut short, and starting on it forgot acknowledged orders; replay-verify said so
 * of the same directory. An HA node is not judged: its log follows the leader's (a standby refills it).
 */
export async function refuseLogBehindAnchorsOrClose(wal: Wal, options: GatewayOptions): Promise<void> {
  if (options.role !== undefined || options.lease !== undefined) return
  try {
    const backup = backupManifestCheck(options.dataDir, wal.lastLsn, wal)
    if (backup !== null) throw new RestoreError(backup.code, `${backup.detail}. Nothing was appended: copy the backup again and check it with "egress replay-verify DIR"; move ${backup.file} aside only if this log is not that backup's or the loss is accepted`, { path: backup.file })
    if (singleNodeDurability(options) === 'fsync') refuseLogBehindAnchors(wal, anchorsPathOf(options.dataDir, options.audit?.anchorsFile))
  } catch (error) {
    await wal.close()
    throw error
  }
}

/**
 * The durability a data dir's witnesses (the anchors file, snapshots, the query model) are proof under: `fsync` for a
 * single node writing with it; `none` (no proof) for a log written without syncs and for an HA node, whose log follows
 * the leader's (a standby drops a diverged tail the old leader anchored, by design).
 */
export function singleNodeDurability(options: GatewayOptions): 'fsync' | 'none' {
  if (options.role !== undefined || options.lease !== undefined) return 'none'
  return options.wal?.durability ?? 'fsync'
}

/**
 * A leader's start refuses a restored state holding orders open on a venue none of `options.venues` serves
 * (VENUE_GONE_ORDERS_OPEN, venue-gone.ts), closing the log.
 */
export async function refuseOrdersOnGoneVenuesOrClose(wal: Wal, engine: Engine, options: GatewayOptions): Promise<void> {
  try {
    refuseOrdersOnGoneVenues(engine.state.orders.values(), new Set(options.venues.map((venue) => venue.adapter.venue)))
  } catch (error) {
    await wal.close()
    throw error
  }
}

/**
 * Rebuilds the state from snapshot + log (refused snapshots go to onError); closes the log if that fails. A snapshot
 * whose seal is present and does not hold (checked with the audit's verifying keys, or without any for its structure
 * and claims) is refused like a damaged file, SEAL_INVALID, and an older one or the log used; an unsealed one is used,
 * and one signed by a key those keys do not hold is read for its structure and claims (seal-file.ts SealKeyPolicy).
 */
export async function restoreOrClose(wal: Wal, store: SnapshotStore, policy: SnapshotPolicy, options: GatewayOptions): Promise<Restored & { sealKeys: SealKeyResolver | null }> {
  let restored: Restored
  let sealKeys: SealKeyResolver | null
  try {
    const source = await verifyingKeySource(options.audit)
    sealKeys = source === null ? null : await keyResolverOf(source)
    const seals = await sealVerdicts(store, sealKeys, { unknownKey: 'unverified' })
    restored = restoreEngine(wal, store, { load: policy.load, seals })
  } catch (error) {
    await wal.close()
    throw error
  }
  for (const rejected of restored.report.rejected) options.onError(new Error(describeRejection(rejected)), 'snapshot load')
  // The keys it checked the seals with: the running compaction's basis must be a snapshot they would let a start use.
  return { ...restored, sealKeys }
}
