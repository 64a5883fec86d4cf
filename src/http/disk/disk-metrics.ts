/**
 * The data directory's free space on /metrics, sampled from the DiskWatch at scrape time (it reads on its own timer,
 * so a scrape never waits on the file system). Unlabelled, so bounded: one series each.
 */

import type { MetricsRegistry } from '../metrics/index.ts'
import type { DiskWatch } from './disk-watch.ts'

export function registerDiskMetrics(registry: MetricsRegistry, disk: DiskWatch): void {
  const free = registry.gauge({ name: 'egress_data_dir_free_bytes', help: "Free bytes (for an unprivileged writer) on the data dir's file system at the last good read; 0 before the first." })
  const floor = registry.gauge({ name: 'egress_data_dir_free_bytes_min', help: 'The floor (storage.freeBytesMin) below which new orders and amends are refused; 0: none.' })
  const refusing = registry.gauge({ name: 'egress_data_dir_low', help: '1 while new orders and amends are refused with DISK_LOW (below the floor, or the free space unreadable or not read yet with a floor set).' })
  const begun = registry.counter({ name: 'egress_data_dir_low_total', help: 'Times the intake began refusing new orders and amends for the data dir (DISK_LOW).' })
  const failures = registry.counter({ name: 'egress_data_dir_read_failures_total', help: "Checks of the data dir's free space that failed (statfs refused, or not answered within 3 check intervals)." })
  registry.beforeRender(() => {
    const status = disk.status
    free.set(status.freeBytes ?? 0)
    floor.set(status.freeBytesMin)
    refusing.set(status.refusing ? 1 : 0)
    begun.advanceTo(disk.counts.refusalsBegun)
    failures.advanceTo(disk.counts.readFailures)
  })
}
