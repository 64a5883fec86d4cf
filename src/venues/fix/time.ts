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
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  // Date.UTC rolls fields over (day 31 of November is 1 December, hour 46 the next day) and reads years 0–99 as 1900–1999:
  // such a text is no UTCTimestamp (FIX: HH 00–23, MM 00–59, SS 00–60 with a leap second), not a time to take.
  if (hour > 23 || minute > 59 || second > 60) return null
  const date = new Date(Date.UTC(2000, month - 1, day))
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null
  date.setUTCFullYear(year)
  if (date.getUTCMonth() !== month - 1) return null // 29 February of a year that is not a leap year
  const ms = date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + Number((match[7] ?? '').slice(0, 3).padEnd(3, '0'))
  return Number.isFinite(ms) ? ms : null
}
