/**
 * Collector pacing's metrics (src/runtime/collector-pacing.ts), sampled at scrape time:
 *
 *   egress_collector_paced_total               paced young-generation collections since start
 *   egress_collector_paced_pause_seconds_total the event loop held by them, summed
 *   egress_collector_paced_pause_seconds_max   the longest one
 *   egress_collector_paced_pause_seconds_last  the latest one
 *   egress_collector_idle_full_total           full collections run in a lull since start
 *   egress_collector_idle_full_pause_seconds_total|max   their pauses, summed and longest
 */

import type { CollectorPacingStats } from '../runtime/collector-pacing.ts'
import type { MetricsRegistry } from './metrics/index.ts'

export function followCollectorPacing(registry: MetricsRegistry, stats: Readonly<CollectorPacingStats>): void {
  // Once per registry: an app built twice over the same services adds the metrics once.
  registry.once('collector-pacing', () => {
    const collections = registry.counter({ name: 'egress_collector_paced_total', help: 'Young-generation collections run by collector pacing (config collector) since start.' })
    const pauseTotal = registry.counter({ name: 'egress_collector_paced_pause_seconds_total', help: 'Time the event loop was held by paced collections, summed.' })
    const pauseMax = registry.gauge({ name: 'egress_collector_paced_pause_seconds_max', help: 'Longest pause of one paced collection since start.' })
    const pauseLast = registry.gauge({ name: 'egress_collector_paced_pause_seconds_last', help: 'Pause of the latest paced collection.' })
    const fulls = registry.counter({ name: 'egress_collector_idle_full_total', help: 'Full collections collector pacing ran in a lull (for collector.fullWhenIdleMs no durable record, no API request begun, no snapshot or role change under way) since start.' })
    const fullPauseTotal = registry.counter({ name: 'egress_collector_idle_full_pause_seconds_total', help: 'Time the event loop was held by full collections run in a lull, summed.' })
    const fullPauseMax = registry.gauge({ name: 'egress_collector_idle_full_pause_seconds_max', help: 'Longest pause of one full collection run in a lull since start.' })
    registry.beforeRender(() => {
      collections.advanceTo(stats.collections)
      pauseTotal.advanceTo(stats.pauseMsTotal / 1000)
      pauseMax.set(stats.pauseMsMax / 1000)
      pauseLast.set(stats.pauseMsLast / 1000)
      fulls.advanceTo(stats.fullCollections)
      fullPauseTotal.advanceTo(stats.fullPauseMsTotal / 1000)
      fullPauseMax.set(stats.fullPauseMsMax / 1000)
    })
  })
}
