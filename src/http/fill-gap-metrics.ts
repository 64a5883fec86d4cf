/**
 * The fill-gap watch's metrics (src/runtime/fill-gap-watch.ts), sampled at scrape time: it writes nothing to the log,
 * so these are how an operator sees it work — fill reports that showed an earlier fill late or lost, how those gaps
 * closed, and the read-backs they caused. No label names an order or account: the bounded `by` and `outcome` only.
 *
 *   egress_fill_gaps_suspected_total                  gaps opened (a fill report stated more than egress had booked)
 *   egress_fill_gaps_resolved_total{by}               closed without a read-back: late_report (it landed within the
 *                                                     grace), order_closed (the order left the venue's open orders)
 *   egress_fill_gap_read_backs_total{outcome}         gaps still open after the grace: started (the order read back),
 *                                                     deferred (the call budget too low: looked at again a grace later)
 *   egress_fill_gaps_open                             gaps open now
 */

import type { FillGapStats } from '../runtime/fill-gap-watch.ts'
import type { MetricsRegistry } from './metrics/index.ts'

export function followFillGaps(registry: MetricsRegistry, sample: () => { stats: Readonly<FillGapStats>; openCount: number }): void {
  const suspected = registry.counter({ name: 'egress_fill_gaps_suspected_total', help: 'Fill reports that showed an earlier fill of their order late or lost (the venue ahead of the books): gaps opened in the fill-gap watch.' })
  const resolved = registry.counter({
    name: 'egress_fill_gaps_resolved_total',
    help: 'Fill gaps closed without a read-back, by how: late_report (the missing report landed within the grace), order_closed (the order left the venue first).',
    labelNames: ['by'],
  })
  const readBacks = registry.counter({
    name: 'egress_fill_gap_read_backs_total',
    help: 'Fill gaps still open after the grace, by outcome: started (the order read back from its venue), deferred (call budget too low; looked at again a grace later).',
    labelNames: ['outcome'],
  })
  const open = registry.gauge({ name: 'egress_fill_gaps_open', help: 'Fill gaps open now (orders whose venue stated more filled than booked, within the grace).' })
  registry.beforeRender(() => {
    const { stats, openCount } = sample()
    suspected.advanceTo(stats.suspected)
    resolved.advanceTo(stats.resolvedByReport, { by: 'late_report' })
    resolved.advanceTo(stats.closedWithOrder, { by: 'order_closed' })
    readBacks.advanceTo(stats.readBacks, { outcome: 'started' })
    readBacks.advanceTo(stats.readBacksDeferred, { outcome: 'deferred' })
    open.set(openCount)
  })
}
