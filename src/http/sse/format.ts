/**
 * The SSE wire format (WHATWG HTML §9.2): `id:`, `event:`, `data:` lines and a blank line; comments start with `:`.
 * Data is single-line JSON here, so no line splitting is needed.
 */

const encoder = new TextEncoder()

export function sseEvent(options: { id?: number; event: string; data: unknown }): Uint8Array {
  const id = options.id === undefined ? '' : `id: ${options.id}\n`
  return encoder.encode(`${id}event: ${options.event}\ndata: ${JSON.stringify(options.data)}\n\n`)
}

export function sseComment(text: string): Uint8Array {
  return encoder.encode(`: ${text.replace(/[\r\n]/g, ' ')}\n\n`)
}

/** Tells EventSource clients how long to wait before reconnecting. */
export function sseRetry(ms: number): Uint8Array {
  return encoder.encode(`retry: ${ms}\n\n`)
}

/** `Last-Event-ID` as an LSN: null when absent, 'invalid' when it is not a non-negative integer. */
export function parseLastEventId(raw: string | undefined | null): number | null | 'invalid' {
  if (raw === undefined || raw === null || raw.trim() === '') return null
  const text = raw.trim()
  if (!/^\d{1,15}$/.test(text)) return 'invalid'
  return Number(text)
}
