import { describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { CONTENT_TYPE, MetricsRegistry, serveMetrics } from '../../../src/http/metrics/index.ts'

const REFUSED_HEAD =
  '# HELP egress_metrics_series_refused_total Samples dropped because their metric already had its maximum number of label combinations.\n' +
  '# TYPE egress_metrics_series_refused_total counter\n'

/** The exposition without the registry's own refusal counter, when it has nothing to say. */
function own(registry: MetricsRegistry): string {
  const text = registry.render()
  expect(text.startsWith(REFUSED_HEAD)).toBe(true)
  return text.slice(REFUSED_HEAD.length)
}

describe('exposition format', () => {
  test('a counter renders HELP, TYPE and one line per series, sorted by label values', () => {
    const registry = new MetricsRegistry()
    const rejects = registry.counter({ name: 'egress_rejects_total', help: 'Orders rejected, by reason.', labelNames: ['reason'] })
    rejects.inc(1, { reason: 'RISK_LIMIT' })
    rejects.inc(2, { reason: 'HALTED' })
    rejects.inc(1, { reason: 'RISK_LIMIT' })
    expect(own(registry)).toBe(
      '# HELP egress_rejects_total Orders rejected, by reason.\n' +
        '# TYPE egress_rejects_total counter\n' +
        'egress_rejects_total{reason="HALTED"} 2\n' +
        'egress_rejects_total{reason="RISK_LIMIT"} 2\n',
    )
  })

  test('an unlabelled metric is exported as 0 before its first use', () => {
    const registry = new MetricsRegistry()
    registry.gauge({ name: 'egress_unknown_orders', help: 'Orders in Unknown.' })
    expect(own(registry)).toBe('# HELP egress_unknown_orders Orders in Unknown.\n# TYPE egress_unknown_orders gauge\negress_unknown_orders 0\n')
  })

  test('a gauge sets, increments and decrements; several labels render in declared order', () => {
    const registry = new MetricsRegistry()
    const depth = registry.gauge({ name: 'egress_lane_depth', help: 'Orders waiting per lane.', labelNames: ['venue', 'lane'] })
    depth.set(5, { lane: '1', venue: 'sim' })
    depth.inc(2, { venue: 'sim', lane: '1' })
    depth.dec(1, { venue: 'sim', lane: '1' })
    expect(own(registry)).toContain('egress_lane_depth{venue="sim",lane="1"} 6\n')
  })

  test('a histogram renders cumulative buckets with le, +Inf, _sum and _count', () => {
    const registry = new MetricsRegistry()
    const latency = registry.histogram({
      name: 'egress_ack_seconds', help: 'Accept to durable ACK.', labelNames: ['venue'], buckets: [0.001, 0.01, 0.1],
    })
    for (const value of [0.0005, 0.001, 0.005, 0.05, 2]) latency.observe(value, { venue: 'sim' })
    expect(own(registry)).toBe(
      '# HELP egress_ack_seconds Accept to durable ACK.\n' +
        '# TYPE egress_ack_seconds histogram\n' +
        'egress_ack_seconds_bucket{venue="sim",le="0.001"} 2\n' +
        'egress_ack_seconds_bucket{venue="sim",le="0.01"} 3\n' +
        'egress_ack_seconds_bucket{venue="sim",le="0.1"} 4\n' +
        'egress_ack_seconds_bucket{venue="sim",le="+Inf"} 5\n' +
        'egress_ack_seconds_sum{venue="sim"} 2.0565\n' +
        'egress_ack_seconds_count{venue="sim"} 5\n',
    )
  })

  test('an unlabelled histogram has only le on its buckets and no braces on sum and count', () => {
    const registry = new MetricsRegistry()
    registry.histogram({ name: 'wal_batch_records', help: 'Records per commit.', buckets: [1, 10] }).observe(3)
    expect(own(registry)).toBe(
      '# HELP wal_batch_records Records per commit.\n# TYPE wal_batch_records histogram\n' +
        'wal_batch_records_bucket{le="1"} 0\nwal_batch_records_bucket{le="10"} 1\nwal_batch_records_bucket{le="+Inf"} 1\n' +
        'wal_batch_records_sum 3\nwal_batch_records_count 1\n',
    )
  })

  test('label values escape backslash, quote and newline; HELP escapes backslash and newline', () => {
    const registry = new MetricsRegistry()
    registry.counter({ name: 'x_total', help: 'a \\ b\nc "q"', labelNames: ['v'] }).inc(1, { v: 'a\\b"c\nd' })
    expect(own(registry)).toBe('# HELP x_total a \\\\ b\\nc "q"\n# TYPE x_total counter\nx_total{v="a\\\\b\\"c\\nd"} 1\n')
  })

  test('non-finite gauge values use +Inf, -Inf and NaN', () => {
    const registry = new MetricsRegistry()
    const g = registry.gauge({ name: 'g', help: 'h', labelNames: ['k'] })
    g.set(Infinity, { k: 'a' })
    g.set(-Infinity, { k: 'b' })
    g.set(NaN, { k: 'c' })
    expect(own(registry)).toContain('g{k="a"} +Inf\ng{k="b"} -Inf\ng{k="c"} NaN\n')
  })

  test('beforeRender callbacks sample values just before rendering', () => {
    const registry = new MetricsRegistry()
    const subscribers = registry.gauge({ name: 'egress_sse_subscribers', help: 'Open SSE streams.' })
    let open = 3
    registry.beforeRender(() => subscribers.set(open))
    expect(registry.render()).toContain('egress_sse_subscribers 3\n')
    open = 4
    expect(registry.render()).toContain('egress_sse_subscribers 4\n')
  })
})

describe('bounds and mistakes', () => {
  test('beyond seriesMax a new label combination is refused and counted, existing ones keep working', () => {
    const registry = new MetricsRegistry({ seriesMax: 2 })
    const c = registry.counter({ name: 'c_total', help: 'h', labelNames: ['id'] })
    c.inc(1, { id: 'a' })
    c.inc(1, { id: 'b' })
    c.inc(1, { id: 'c' })
    c.inc(1, { id: 'd' })
    c.inc(1, { id: 'a' })
    const text = registry.render()
    expect(text).toContain('c_total{id="a"} 2\nc_total{id="b"} 1\n')
    expect(text).not.toContain('id="c"')
    expect(text).toContain('egress_metrics_series_refused_total{metric="c_total"} 2\n')
  })

  test('wrong label names, negative counter increments, bad names and duplicates throw', () => {
    const registry = new MetricsRegistry()
    const c = registry.counter({ name: 'c_total', help: 'h', labelNames: ['reason'] })
    expect(() => c.inc(1, { venue: 'sim' })).toThrow('expected labels {reason}')
    expect(() => c.inc(1)).toThrow('expected labels {reason}')
    expect(() => c.inc(1, { reason: 'x', venue: 'sim' })).toThrow('expected labels {reason}')
    expect(() => c.inc(-1, { reason: 'x' })).toThrow('only goes up')
    expect(() => registry.counter({ name: 'c_total', help: 'h' })).toThrow('already registered')
    expect(() => registry.counter({ name: '1bad', help: 'h' })).toThrow('not valid')
    expect(() => registry.counter({ name: 'ok', help: 'h', labelNames: ['__x'] })).toThrow('not valid')
    expect(() => registry.histogram({ name: 'h1', help: 'h', buckets: [1, 1] })).toThrow('strictly increasing')
    expect(() => registry.histogram({ name: 'h2', help: 'h', buckets: [1], labelNames: ['le'] })).toThrow('reserved')
  })

  test('a frozen label set counts into the series of its values, in either metric it is given to; a wrong one throws every time', () => {
    const registry = new MetricsRegistry()
    const a = registry.counter({ name: 'a_total', help: 'h', labelNames: ['route', 'status'] })
    const b = registry.counter({ name: 'b_total', help: 'h', labelNames: ['status', 'route'] })
    const frozen = Object.freeze({ route: '/v1/orders', status: '2xx' })
    a.inc(1, frozen)
    a.inc(1, frozen)
    a.inc(1, { route: '/v1/orders', status: '2xx' })
    a.inc(1, { status: '2xx', route: '/v1/orders' })
    b.inc(1, frozen)
    const text = registry.render()
    expect(text).toContain('a_total{route="/v1/orders",status="2xx"} 4\n')
    expect(text).toContain('b_total{status="2xx",route="/v1/orders"} 1\n')
    const wrong = Object.freeze({ route: '/v1/orders' })
    const other = registry.counter({ name: 'c_total', help: 'h', labelNames: ['route'] })
    for (let attempt = 0; attempt < 2; attempt++) expect(() => a.inc(1, wrong)).toThrow('expected labels {route, status}')
    other.inc(1, wrong)
    for (let attempt = 0; attempt < 2; attempt++) expect(() => a.inc(1, wrong)).toThrow('expected labels {route, status}')
  })

  test('once() runs its registration the first time a key is asked for, and never again for that registry', () => {
    const registry = new MetricsRegistry()
    const register = (): void => void registry.gauge({ name: 'g_once', help: 'h' })
    registry.once('module', register)
    registry.once('module', register) // a second registration would throw: already registered
    expect(registry.render().match(/^g_once 0$/gm)).toHaveLength(1)
    const other = new MetricsRegistry()
    other.once('module', () => void other.gauge({ name: 'g_once', help: 'h' }))
    expect(other.render()).toContain('g_once 0')
  })
})

test('GET /metrics serves the exposition with the Prometheus content type', async () => {
  const registry = new MetricsRegistry()
  registry.counter({ name: 'up_total', help: 'h' }).inc()
  const app = new Hono()
  app.get('/metrics', serveMetrics(registry))
  const res = await app.request('/metrics')
  expect(res.headers.get('Content-Type')).toBe(CONTENT_TYPE)
  expect(await res.text()).toContain('up_total 1\n')
})

describe('series sampled at scrape time', () => {
  test('a gauge replaced whole drops the label values that no longer exist', () => {
    const registry = new MetricsRegistry()
    const wait = registry.gauge({ name: 'g_wait_seconds', help: 'h', labelNames: ['thread'] })
    wait.replaceAll([{ value: 1, labels: { thread: 'a' } }, { value: 2, labels: { thread: 'b' } }])
    wait.replaceAll([{ value: 3, labels: { thread: 'b' } }])
    expect(own(registry)).toBe('# HELP g_wait_seconds h\n# TYPE g_wait_seconds gauge\ng_wait_seconds{thread="b"} 3\n')
  })

  test('a counter advanced to a running total follows it up and never down', () => {
    const registry = new MetricsRegistry()
    const taken = registry.counter({ name: 'c_taken_total', help: 'h' })
    taken.advanceTo(2)
    taken.advanceTo(5)
    taken.advanceTo(1)
    expect(own(registry)).toBe('# HELP c_taken_total h\n# TYPE c_taken_total counter\nc_taken_total 5\n')
  })
})
