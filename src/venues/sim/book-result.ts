/**
 * What an operation on the sim book answers the caller. The execution reports it causes are pushed, in order, onto
 * the array the venue passes in (one for the venue's life, emitted and emptied after each operation): a result object
 * and a reports array per operation were two objects per place.
 */

import type { ExecutionReport, VenueOutcome } from '../adapter.ts'

/** Where an operation on the book puts the reports it causes, in the order they happen. */
export type CausedReports = ExecutionReport[]

export function ok<T>(value: T): VenueOutcome<T> {
  return { kind: 'ok', value }
}

export function rejected<T>(reason: string): VenueOutcome<T> {
  return { kind: 'rejected', reason }
}

export function unknown<T>(reason: string): VenueOutcome<T> {
  return { kind: 'unknown', reason }
}
