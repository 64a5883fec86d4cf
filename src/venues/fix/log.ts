/**
 * Log records of the FIX layer: one structured record per session event worth an operator's attention (state
 * changes, rejects, garbled input, gaps, resends). The runtime routes them to its log; the default writes JSON lines
 * to stderr.
 */

export type FixLogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface FixLogRecord {
  level: FixLogLevel
  /** Stable event name, e.g. "fix.garbled_message", "fix.logon", "fix.gap_detected". */
  event: string
  /** "FIX.4.2:SENDER->TARGET". */
  session: string
  message: string
  [key: string]: unknown
}

export type FixLog = (record: FixLogRecord) => void

export function writeFixLogToStderr(record: FixLogRecord): void {
  if (record.level === 'debug') return
  process.stderr.write(`${JSON.stringify(record)}\n`)
}

export function silentFixLog(): void {}

/** An error (or anything thrown) as one line for a log record: `Name: message`. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
