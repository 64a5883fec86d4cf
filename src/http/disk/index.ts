/** http/disk/ — the data directory's free space: read on a timer, shown on /metrics and /health, DISK_LOW at intake. */

export { DiskWatch, STALL_CHECKS, type DiskRefusal, type DiskStatus, type DiskWatchOptions } from './disk-watch.ts'
export { readFreeBytes, type FreeBytesReader } from './free-bytes.ts'
export { registerDiskMetrics } from './disk-metrics.ts'
export { diskLowError, refuseIfDiskLow } from './disk-low.ts'
