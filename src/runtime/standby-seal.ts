/**
 * A standby's snapshot seals. Both nodes of a pair run on the same audit config (either may lead), so a standby holds
 * the seal key as its leader does; its gateway runs no Sealer (it appends nothing: no seal records), but its snapshots
 * are the base of its compacted log as the leader's are of the leader's, and the base of the leader it becomes after
 * a takeover. So it seals them the same way (take.ts sealWith): the chain head at the snapshot's LSN is in its log (the
 * leader's frames, chain and all), and the epoch signed is that of the frame there — the leader's that wrote it, where
 * a leader's own snapshot signs its log's epoch — not the replica log's, which writes nothing.
 */

import type { Wal } from '../../wal/index.ts'
import { configuredSigningKey } from '../audit/setup.ts'
import { signSnapshotSeal } from '../audit/snapshot-seal.ts'
import type { Clock } from '../domain/clock.ts'
import type { GatewayOptions } from './gateway-options.ts'
import type { SnapshotSealer } from './snapshot/index.ts'

/** The standby's key, loaded before its log is opened (a key file that does not load refuses the start, as a leader's). */
export async function standbySealKey(options: Pick<GatewayOptions, 'audit'>): Promise<((wal: Wal, clock: Clock) => SnapshotSealer) | null> {
  const signer = await configuredSigningKey(options.audit)
  if (signer === null) return null
  return (wal, clock) => (snapshot) => signSnapshotSeal({ ...snapshot, epoch: epochAt(wal, snapshot.lsn) ?? snapshot.epoch, sealedAtMs: Math.trunc(clock.nowMs()) }, signer)
}

function epochAt(wal: Wal, lsn: number): number | null {
  for (const frame of wal.read(lsn, { toLsn: lsn })) return frame.epoch
  return null
}
