/** The intake's DISK_LOW answer (routes/orders.ts for new orders, routes/order-actions.ts for amends). */

import { ApiError } from '../errors.ts'
import type { DiskRefusal, DiskWatch } from './disk-watch.ts'

/** 503 DISK_LOW with Retry-After (the next check): nothing was recorded, the same request may be sent again. */
export function diskLowError(what: string, refusal: DiskRefusal): ApiError {
  const why =
    refusal.reason === 'below_floor' ? `the data dir has ${refusal.freeBytes} bytes free, below its floor of ${refusal.freeBytesMin}`
    : refusal.reason === 'not_read_yet' ? "the data dir's free space has not been read yet (this node just started or changed role)"
    : "the data dir's free space cannot be read"
  return new ApiError('DISK_LOW', `${what} are refused: ${why}; cancels and flattens still pass`, {
    headers: { 'Retry-After': String(refusal.retryAfterSec) },
    details: { reason: refusal.reason, free_bytes: refusal.freeBytes, free_bytes_min: refusal.freeBytesMin, retry_after_sec: refusal.retryAfterSec },
  })
}

/** Throws DISK_LOW while the data dir is below its floor (or unreadable with one). */
export function refuseIfDiskLow(disk: DiskWatch, what: string): void {
  const refusal = disk.refusal()
  if (refusal !== null) throw diskLowError(what, refusal)
}
