/**
 * A gateway's snapshotter, built from its options and what its start found: where snapshots go, which sections they
 * hold, how they are sealed, and which seals compaction trusts.
 */

import type { AuditSetup, SealKeyResolver } from '../audit/index.ts'
import type { Engine } from './engine.ts'
import type { GatewayOptions } from './gateway-options.ts'
import { Snapshotter, type SnapshotPolicy, type SnapshotSealer, type SnapshotStore } from './snapshot/index.ts'

/** The snapshots as a start set them up: store and policy (gateway-restore.ts snapshotsOf), the seal keys restore checked seals with, a standby's sealer. */
export interface GatewaySnapshots {
  store: SnapshotStore
  policy: SnapshotPolicy
  sealKeys: SealKeyResolver | null
  sealWith?: SnapshotSealer
}

export function snapshotterOf(options: GatewayOptions, engine: Engine, snapshots: GatewaySnapshots, parts: { auditSetup: AuditSetup | null; compactionKeepFromLsn: () => number }): Snapshotter {
  const sealer = parts.auditSetup?.sealer
  const sealWith: SnapshotSealer | undefined = snapshots.sealWith ?? (sealer === null || sealer === undefined ? undefined : (snapshot) => sealer.signSnapshot(snapshot, options.clock.nowMs()))
  return new Snapshotter({
    engine,
    store: snapshots.store,
    clock: options.clock,
    policy: snapshots.policy,
    dataDir: options.dataDir,
    sections: options.snapshotSections ?? [],
    compactionKeepFromLsn: parts.compactionKeepFromLsn,
    // A node holding the seal key seals its snapshots (DESIGN §3: a compacted log's chain restarts from the sealed head),
    // a standby too (standby-seal.ts).
    ...(sealWith === undefined ? {} : { sealWith }),
    // Compaction's basis is a snapshot whose seal holds with the keys this start checked seals with.
    sealKeys: snapshots.sealKeys,
    onError: options.onError,
  })
}
