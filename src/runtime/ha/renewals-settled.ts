/**
 * A stopping node's last wait on its lease (HaNode.stop): for the renewals still writing off the event loop to end,
 * once the lease is released (Lease.renewalsSettled). Released, a renewal writes nothing more (its temp file removed,
 * Lease.release) and rejects LEASE_LOST; its caller (leading.ts renewLease) logged that the lease was lost, "stopping
 * already" — after stop() had resolved, a line from a node its caller believed stopped. Bounded: a renewal on a lease
 * directory whose share hangs never ends, and stop() must.
 */

import type { Lease } from '../../../wal/index.ts'

/** How long stop() waits for the released lease's renewals to end: a healthy one ends within a disk's two fsyncs. */
export const RENEWALS_SETTLE_WAIT_MS_MAX = 1_000

/** Waits for `lease`'s renewals to end, at most `waitMsMax`; past it, logs that one is still writing and returns. */
export async function renewalsSettledWithin(lease: Lease | null, waitMsMax: number, log: (line: string) => void): Promise<void> {
  if (lease === null) return
  let timer: ReturnType<typeof setTimeout> | null = null
  const timedOut = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), waitMsMax)))
  const end = await Promise.race([lease.renewalsSettled().then(() => 'settled' as const), timedOut])
  if (timer !== null) clearTimeout(timer)
  if (end === 'timed out') log(`stop: a renewal of lease epoch ${lease.epoch} was still writing after ${waitMsMax} ms (a lease directory that hangs?); not waited for`)
}
