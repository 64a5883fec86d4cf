/** `GET /metrics`: the gateway's registry in Prometheus text format. */

import type { Context } from 'hono'
import type { GatewayMetrics } from './gateway-metrics.ts'
import { CONTENT_TYPE } from './metrics/index.ts'
import { NO_QUERY, queryOf } from './query.ts'

export function serveMetricsText(metrics: GatewayMetrics): (c: Context) => Response {
  return function serveMetrics(c) {
    queryOf(c, NO_QUERY)
    return c.body(metrics.render(), 200, { 'Content-Type': CONTENT_TYPE })
  }
}
