/**
 * The shape every intake guard returns: pass with a value for the next guard, or fail with a reason code. Either
 * way the guard reports its inputs, which become its line in the decision record.
 */

import type { GuardInputValue, GuardName, GuardRecord } from '../../domain/guards.ts'
import type { ReasonCode } from '../../domain/reasons.ts'

export type GuardInputs = Record<string, GuardInputValue>

export type GuardResult<T> = { pass: true; value: T; inputs: GuardInputs } | { pass: false; reason: ReasonCode; inputs: GuardInputs }

export function passed<T>(value: T, inputs: GuardInputs): GuardResult<T> {
  return { pass: true, value, inputs }
}

export function failed<T>(reason: ReasonCode, inputs: GuardInputs): GuardResult<T> {
  return { pass: false, reason, inputs }
}

/** Appends the guard's line to the decision record and hands the result on. */
export function record<T>(records: GuardRecord[], guard: GuardName, result: GuardResult<T>): GuardResult<T> {
  records.push(result.pass ? { guard, outcome: 'pass', inputs: result.inputs } : { guard, outcome: 'fail', reason: result.reason, inputs: result.inputs })
  return result
}
