/**
 * Amend (replace, Lane2): the request with its guards, the adapter's answer, and settling an amend from venue
 * evidence (reports and reconciliation use the latter).
 */

export { decideAmend, notAmendable } from './request.ts'
export { decideAmendResult } from './result.ts'
export { applyAmend, failAmend, openAmend, type AmendSource } from './evidence.ts'
