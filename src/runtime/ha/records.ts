/**
 * HA's log records. Type codes from 0xD000 up are HA's (audit 0xA…, back office 0xB…, FIX sessions 0xC…); like them,
 * the kernel does not fold these into its state (src/runtime/records.ts: everything from 0xA000 up is skipped), so a
 * standby and a replay see them without any projection changing. Payloads are JSON.
 *
 *   0xD001 ha.replication_degraded v1  SyncTransition — synchronous replication stopped confirming writes
 *   0xD002 ha.replication_restored v1  SyncTransition — the standby caught up; writes wait for it again
 *   0xD010 kernel.command v1           the KernelCommand a decision came from, before its events (command-record.ts;
 *                                      written by a gateway started with an HA role, read by a standby in shadow mode)
 *
 * Written by a leader running `degrade_async`: the alert that from here on 202s did not wait for the standby.
 */

import type { RecordInput } from '../../../wal/index.ts'
import type { SyncTransition } from './sync.ts'

export const HA_RECORD_TYPE_MIN = 0xd000
export const HA_REPLICATION_DEGRADED = { type: 0xd001, version: 1, name: 'ha.replication_degraded' } as const
export const HA_REPLICATION_RESTORED = { type: 0xd002, version: 1, name: 'ha.replication_restored' } as const

const encoder = new TextEncoder()

export function syncTransitionRecord(transition: SyncTransition & { policy: string }): RecordInput {
  const kind = transition.state === 'down' ? HA_REPLICATION_DEGRADED : HA_REPLICATION_RESTORED
  return { type: kind.type, version: kind.version, payload: encoder.encode(JSON.stringify(transition)) }
}
