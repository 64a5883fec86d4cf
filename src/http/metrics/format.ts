/**
 * Prometheus text exposition format 0.0.4: escaping and number formatting.
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** HELP text escapes backslash and newline. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** Label values escape backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** Sample values: Go float syntax, with the spellings Prometheus uses for the non-finite ones. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

/** `{a="1",b="2"}`, or nothing for no labels. */
export function formatLabels(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return ''
  return `{${names.map((name, index) => `${name}="${escapeLabelValue(values[index] ?? '')}"`).join(',')}}`
}
