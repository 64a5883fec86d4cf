/**
 * One back office per running gateway (backoffice.ts): opened on first use with the query model in the gateway's data
 * directory, closed when the gateway stops (or its start fails), and the source of the back office's snapshot section.
 */

import { join } from 'node:path'
import type { Gateway } from '../runtime/gateway.ts'
import type { SnapshotSectionSource } from '../runtime/snapshot/take.ts'
import { BackOffice } from './backoffice.ts'
import type { BackOfficePacing } from './loop-pace.ts'
import { BACKOFFICE_SECTION } from './section.ts'

const offices = new WeakMap<Gateway, BackOffice>()

/** The gateway's back office if one was opened (backOfficeOf), else null: for readers that must not open one. */
export function openBackOfficeOf(gateway: Gateway): BackOffice | null {
  return offices.get(gateway) ?? null
}

/**
 * The back office of `gateway`, opened on first use with the query model in its data directory. Venues are
 * reconciled on the `trading` balance basis: the sim venue (the only one egress runs today) never holds the paper
 * funding, only what traded there.
 */
export function backOfficeOf(
  gateway: Gateway,
  options: { storePath?: string; flushIntervalMs?: number; batchRowsMax?: number; reconcileIntervalMs?: number | null; pacing?: BackOfficePacing } = {},
): BackOffice {
  let office = offices.get(gateway)
  if (office !== undefined) return office
  const section = gateway.restoredSections.get(BACKOFFICE_SECTION)
  office = new BackOffice({
    engine: gateway.engine,
    clock: gateway.clock,
    storePath: options.storePath ?? join(gateway.options.dataDir, 'backoffice.sqlite'),
    venues: gateway.options.venues.map(({ adapter, prices }) => ({ adapter, prices, balanceBasis: 'trading' as const })),
    ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
    ...(options.batchRowsMax === undefined ? {} : { batchRowsMax: options.batchRowsMax }),
    ...(options.reconcileIntervalMs === undefined ? {} : { reconcileIntervalMs: options.reconcileIntervalMs }),
    ...(options.pacing === undefined ? {} : { pacing: options.pacing }),
    ...(section === undefined ? {} : { section }),
    // The query model witnesses how far the log was durable (QUERY_MODEL_BEYOND_LOG) on a single node writing with
    // fsync. Not under an HA role: a node's re-sync sets its log aside on purpose and leaves the query model as it was
    // (the start then rebuilds it); not with durability none, where nothing is proof of durability.
    refuseStoreBeyondLog: gateway.options.role === undefined && gateway.engine.wal.durability === 'fsync',
    report: gateway.options.onError,
  })
  offices.set(gateway, office)
  // Used once: the projector keeps what it needs (the replay base on a compacted log), the gateway need not.
  gateway.restoredSections.delete(BACKOFFICE_SECTION)
  const stop = gateway.stop.bind(gateway)
  const opened = office
  // The query model closes with the gateway: reconcile stops first, the projection follows the log until the
  // shutdown snapshot has captured it, then it is flushed and released.
  gateway.stop = async () => {
    await opened.quiesce()
    try {
      await stop()
    } finally {
      opened.close()
      offices.delete(gateway)
    }
  }
  // A start that fails after this (bootstrap refused by a lost lease, say) never runs the stop above.
  gateway.onStartFailed(async () => {
    await opened.quiesce()
    opened.close()
    offices.delete(gateway)
  })
  return office
}

/**
 * The back office's snapshot section source for a gateway: captures the back office opened for it (backOfficeOf).
 * Passed to the gateway's `snapshotSections` before the gateway exists; until its back office is open the gateway
 * takes no snapshot (`ready`), so no snapshot lacks the section. Nor while its query model is stopped by failed writes
 * (write-failures.ts: it gives no section): taken without one, such a snapshot became a compaction's basis, and the
 * restart that was to rebuild the query model from the log found the history gone (LEDGER_INCOMPLETE).
 */
export function backOfficeSectionSource(gateway: () => Gateway | null): SnapshotSectionSource {
  return {
    name: BACKOFFICE_SECTION,
    ready: () => {
      const started = gateway()
      const office = started === null ? undefined : offices.get(started)
      return office !== undefined && office.projector.writeFailures.stopped === null
    },
    capture: () => {
      const started = gateway()
      const office = started === null ? undefined : offices.get(started)
      return office === undefined ? null : office.projector.captureSection()
    },
  }
}
