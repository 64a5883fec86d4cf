/**
 * The executor's pacing by the venues' request budgets (src/runtime/send-pacing.ts), sampled at scrape time: it writes
 * nothing to the log (a paced place is simply not picked yet), so this is how an operator sees places and amends wait
 * for a venue×symbol's rateLimitPerSecond. Labelled by venue only (configured, so bounded), never by symbol or order.
 *
 *   egress_send_pacing_waits_total{venue}   times a venue×symbol's budget ran out with a place or amend waiting for it
 *                                           (each wait counted once, when first met): growing steadily, the flow asks
 *                                           more of the venue than its budget, and orders queue in Lanes 1–2
 */

import type { SendPacingStats } from '../runtime/send-pacing.ts'
import type { MetricsRegistry } from './metrics/index.ts'

export function followSendPacing(registry: MetricsRegistry, stats: SendPacingStats): void {
  const waits = registry.counter({
    name: 'egress_send_pacing_waits_total',
    help: "Times a venue×symbol's request budget (rateLimitPerSecond) ran out with a place or amend waiting for it, by venue: each wait counted once. Cancels are counted against the budget but never wait.",
    labelNames: ['venue'],
  })
  registry.beforeRender(() => {
    for (const [venue, total] of stats.waitsByVenue) waits.advanceTo(total, { venue })
  })
}
