/**
 * A small Prometheus registry: counters, gauges and fixed-bucket histograms with labels, rendered by hand
 * (prom-client's default metrics break on Bun). Each metric has a bound on its number of label combinations
 * (series): beyond it a new combination is refused — the sample is dropped and counted in
 * `egress_metrics_series_refused_total{metric=...}` — so an id leaking into a label cannot grow memory or the scrape
 * without bound. Refusing rather than throwing keeps a metrics mistake from failing an order.
 *
 * Mistakes visible at the call site (bad names, wrong label names, negative counter increments, duplicate metrics)
 * throw: they are bugs and a test finds them.
 */

import { escapeHelp, formatLabels, formatValue, LABEL_NAME, METRIC_NAME } from './format.ts'

export type Labels = Readonly<Record<string, string>>

export interface MetricOptions {
  name: string
  help: string
  labelNames?: readonly string[]
  /** Label combinations kept; defaults to the registry's seriesMax. */
  seriesMax?: number
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, strictly increasing and finite; `+Inf` is implicit. */
  buckets: readonly number[]
}

type Kind = 'counter' | 'gauge' | 'histogram'

const NO_LABELS: Labels = Object.freeze({})

/** One metric: its series keyed by label values, bounded. */
abstract class Metric<TSeries> {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  abstract readonly kind: Kind
  readonly #series = new Map<string, { values: string[]; series: TSeries }>()
  readonly #seriesMax: number
  readonly #onRefused: (metric: string) => void
  /** The keys of frozen label sets seen, checked once (keyOf). */
  readonly #frozenKeys = new WeakMap<Labels, string>()

  constructor(options: MetricOptions, seriesMax: number, onRefused: (metric: string) => void) {
    if (!METRIC_NAME.test(options.name)) throw new Error(`metric name ${JSON.stringify(options.name)} is not valid`)
    for (const label of options.labelNames ?? []) {
      if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new Error(`label name ${JSON.stringify(label)} is not valid`)
    }
    if (new Set(options.labelNames).size !== (options.labelNames ?? []).length) throw new Error(`${options.name}: duplicate label names`)
    this.name = options.name
    this.help = options.help
    this.labelNames = [...(options.labelNames ?? [])]
    this.#seriesMax = options.seriesMax ?? seriesMax
    this.#onRefused = onRefused
  }

  protected abstract create(): TSeries

  /**
   * The series for `labels`, created on first use; null once the series bound is reached. The lookup key is built
   * without intermediate arrays (this runs several times per order); the label set is checked on every call.
   */
  protected series(labels: Labels | undefined): TSeries | null {
    const given = labels ?? NO_LABELS
    const key = this.keyOf(given)
    const found = this.#series.get(key)
    if (found !== undefined) return found.series
    if (this.#series.size >= this.#seriesMax) {
      this.#onRefused(this.name)
      return null
    }
    const series = this.create()
    this.#series.set(key, { values: this.labelNames.map((name) => given[name] as string), series })
    return series
  }

  /**
   * The label values joined by NUL, in labelNames order; throws unless `labels` has exactly labelNames, as strings. A
   * frozen label set (one made once and passed on every call) has its key remembered: joining two or more values made
   * a string per call.
   */
  private keyOf(labels: Labels): string {
    const known = this.#frozenKeys.get(labels)
    if (known !== undefined) return known
    const key = this.joinedKeyOf(labels)
    if (Object.isFrozen(labels)) this.#frozenKeys.set(labels, key)
    return key
  }

  private joinedKeyOf(labels: Labels): string {
    const names = this.labelNames
    let givenCount = 0
    for (const _name in labels) givenCount++
    let key = ''
    for (let index = 0; index < names.length; index++) {
      const value = labels[names[index] as string]
      if (typeof value !== 'string') throw this.labelsError(labels)
      key = index === 0 ? value : `${key}\u0000${value}`
    }
    if (givenCount !== names.length) throw this.labelsError(labels)
    return key
  }

  private labelsError(labels: Labels): Error {
    return new Error(`${this.name}: expected labels {${this.labelNames.join(', ')}}, got {${Object.keys(labels).join(', ')}}`)
  }

  /** Forgets every series: for a metric sampled whole at scrape time, whose label values come and go. */
  protected clearSeries(): void {
    this.#series.clear()
  }

  /** Series in a stable order (sorted by label values), for rendering. */
  protected entries(): { values: string[]; series: TSeries }[] {
    return [...this.#series.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry)
  }

  render(): string {
    // An unlabelled metric always has its one series, so it is exported (as 0) before its first use.
    if (this.labelNames.length === 0) this.series(undefined)
    const head = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.kind}\n`
    return head + this.entries().map(({ values, series }) => this.renderSeries(values, series)).join('')
  }

  protected abstract renderSeries(values: string[], series: TSeries): string
}

interface Cell {
  value: number
}

export class Counter extends Metric<Cell> {
  readonly kind = 'counter'

  protected create(): Cell {
    return { value: 0 }
  }

  inc(amount = 1, labels?: Labels): void {
    if (!(amount >= 0)) throw new Error(`${this.name}: a counter only goes up, got ${amount}`)
    const cell = this.series(labels)
    if (cell !== null) cell.value += amount
  }

  /**
   * Raises the series to `total`, a running total kept elsewhere and read at scrape time (a snapshotter's count of
   * snapshots taken). A total below the series' value (its source was replaced) leaves the series as it is: a counter
   * never goes down, and the scrape must not fail over it.
   */
  advanceTo(total: number, labels?: Labels): void {
    const cell = this.series(labels)
    if (cell !== null && total > cell.value) cell.value = total
  }

  protected renderSeries(values: string[], cell: Cell): string {
    return `${this.name}${formatLabels(this.labelNames, values)} ${formatValue(cell.value)}\n`
  }
}

export class Gauge extends Metric<Cell> {
  readonly kind = 'gauge'

  protected create(): Cell {
    return { value: 0 }
  }

  set(value: number, labels?: Labels): void {
    const cell = this.series(labels)
    if (cell !== null) cell.value = value
  }

  inc(amount = 1, labels?: Labels): void {
    const cell = this.series(labels)
    if (cell !== null) cell.value += amount
  }

  dec(amount = 1, labels?: Labels): void {
    this.inc(-amount, labels)
  }

  /**
   * Replaces every series with `samples`: for a gauge sampled whole at scrape time whose label values come and go (a
   * worker thread that no longer runs), so a value that no longer exists stops being exported instead of repeating its
   * last reading for good.
   */
  replaceAll(samples: readonly { value: number; labels: Labels }[]): void {
    this.clearSeries()
    for (const { value, labels } of samples) this.set(value, labels)
  }

  protected renderSeries(values: string[], cell: Cell): string {
    return `${this.name}${formatLabels(this.labelNames, values)} ${formatValue(cell.value)}\n`
  }
}

interface Buckets {
  /** Per-bucket (not cumulative) counts; the last slot is the +Inf bucket. */
  counts: number[]
  sum: number
  count: number
}

export class Histogram extends Metric<Buckets> {
  readonly kind = 'histogram'
  readonly buckets: readonly number[]

  constructor(options: HistogramOptions, seriesMax: number, onRefused: (metric: string) => void) {
    if ((options.labelNames ?? []).includes('le')) throw new Error(`${options.name}: "le" is reserved in histograms`)
    const buckets = options.buckets
    if (buckets.length === 0 || !buckets.every((b, i) => Number.isFinite(b) && (i === 0 || b > (buckets[i - 1] as number)))) {
      throw new Error(`${options.name}: buckets must be finite and strictly increasing, got [${buckets.join(', ')}]`)
    }
    super(options, seriesMax, onRefused)
    this.buckets = [...buckets]
  }

  protected create(): Buckets {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 }
  }

  observe(value: number, labels?: Labels): void {
    const series = this.series(labels)
    if (series === null) return
    // A loop, not findIndex: this runs several times per order, and a callback is a closure per call.
    const buckets = this.buckets
    let index = 0
    while (index < buckets.length && !(value <= (buckets[index] as number))) index++
    series.counts[index] = (series.counts[index] ?? 0) + 1
    series.sum += value
    series.count += 1
  }

  protected renderSeries(values: string[], series: Buckets): string {
    const names = [...this.labelNames, 'le']
    let cumulative = 0
    let out = ''
    this.buckets.forEach((bound, index) => {
      cumulative += series.counts[index] ?? 0
      out += `${this.name}_bucket${formatLabels(names, [...values, formatValue(bound)])} ${cumulative}\n`
    })
    out += `${this.name}_bucket${formatLabels(names, [...values, '+Inf'])} ${series.count}\n`
    const labels = formatLabels(this.labelNames, values)
    return `${out}${this.name}_sum${labels} ${formatValue(series.sum)}\n${this.name}_count${labels} ${series.count}\n`
  }
}

export interface RegistryOptions {
  /** Default bound on label combinations per metric. */
  seriesMax?: number
}

export const SERIES_REFUSED_METRIC = 'egress_metrics_series_refused_total'

export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric<unknown>>()
  readonly #seriesMax: number
  readonly #beforeRender: (() => void)[] = []
  readonly #setUp = new Set<string>()
  readonly #refused: Counter

  constructor(options: RegistryOptions = {}) {
    this.#seriesMax = options.seriesMax ?? 100
    this.#refused = this.counter({
      name: SERIES_REFUSED_METRIC,
      help: 'Samples dropped because their metric already had its maximum number of label combinations.',
      labelNames: ['metric'],
      // Bounded by the number of metrics; a bound here would make a refusal recurse into another refusal.
      seriesMax: Infinity,
    })
  }

  counter(options: MetricOptions): Counter {
    return this.add(new Counter(options, this.#seriesMax, this.refuse))
  }

  gauge(options: MetricOptions): Gauge {
    return this.add(new Gauge(options, this.#seriesMax, this.refuse))
  }

  histogram(options: HistogramOptions): Histogram {
    return this.add(new Histogram(options, this.#seriesMax, this.refuse))
  }

  /**
   * Runs `register` the first time `key` is asked for, and never again for this registry: metrics a route module adds
   * when its app is built, which may happen more than once over the same services (tests build apps twice).
   */
  once(key: string, register: () => void): void {
    if (this.#setUp.has(key)) return
    this.#setUp.add(key)
    register()
  }

  /** Runs `callback` before every render, to sample values that are cheaper to read than to track (queue depths). */
  beforeRender(callback: () => void): void {
    this.#beforeRender.push(callback)
  }

  /** The exposition text: every metric in registration order. */
  render(): string {
    for (const callback of this.#beforeRender) callback()
    return [...this.#metrics.values()].map((metric) => metric.render()).join('')
  }

  private readonly refuse = (metric: string): void => {
    this.#refused.inc(1, { metric })
  }

  private add<TMetric extends Metric<unknown>>(metric: TMetric): TMetric {
    if (this.#metrics.has(metric.name)) throw new Error(`metric ${metric.name} is already registered`)
    this.#metrics.set(metric.name, metric)
    return metric
  }
}
