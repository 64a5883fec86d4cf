/**
 * FIX UTCTimestamp ("YYYYMMDD-HH:MM:SS" with optional ".sss") to and from epoch milliseconds.
 */

export function formatUtcTimestamp(epochMs: number): string {
  const iso = new Date(epochMs).toISOString() // 2024-01-02T03:04:05.678Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 23)}`
}

/** Milliseconds since the epoch, or null when the text is not a UTCTimestamp. Sub-millisecond digits are dropped. */
export function parseUtcTimestamp(text: string | undefined): number | null {
  if (text === undefined) return null
  const match = /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text)
  if (match === null) return null
  const [, year, month, day, hour, minute, second, fraction = ''] = match
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), Number(fraction.slice(0, 3).padEnd(3, '0')))
  return Number.isFinite(ms) ? ms : null
}
