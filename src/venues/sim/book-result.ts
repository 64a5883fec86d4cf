/** What an operation on the sim book answers: the outcome for the caller and the execution reports it caused. */

import type { ExecutionReport, VenueOutcome } from '../adapter.ts'

export interface BookResult<T> {
  outcome: VenueOutcome<T>
  reports: ExecutionReport[]
}

export function ok<T>(value: T, reports: ExecutionReport[] = []): BookResult<T> {
  return { outcome: { kind: 'ok', value }, reports }
}

export function rejected<T>(reason: string, reports: ExecutionReport[]): BookResult<T> {
  return { outcome: { kind: 'rejected', reason }, reports }
}

export function unknown<T>(reason: string, reports: ExecutionReport[]): BookResult<T> {
  return { outcome: { kind: 'unknown', reason }, reports }
}
