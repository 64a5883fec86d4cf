/**
 * http/metrics/ — a hand-written Prometheus registry and the `/metrics` handler.
 */

import type { Context } from 'hono'
import { CONTENT_TYPE } from './format.ts'
import type { MetricsRegistry } from './registry.ts'

export { CONTENT_TYPE, escapeHelp, escapeLabelValue, formatValue } from './format.ts'
export { Counter, Gauge, Histogram, MetricsRegistry, SERIES_REFUSED_METRIC } from './registry.ts'
export type { HistogramOptions, Labels, MetricOptions, RegistryOptions } from './registry.ts'

/** Latency buckets in seconds, from 50 µs to 10 s: order paths live in the sub-millisecond to second range. */
export const LATENCY_BUCKETS_SEC: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
]

/** The `GET /metrics` handler for a registry. */
export function serveMetrics(registry: MetricsRegistry): (c: Context) => Response {
  return function serveMetrics(c) {
    return c.body(registry.render(), 200, { 'Content-Type': CONTENT_TYPE })
  }
}
