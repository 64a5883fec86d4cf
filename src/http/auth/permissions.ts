/**
 * What a principal may do (issue 4, "Roles"). Roles add up: a principal holding several has the union of their rights.
 *
 * - trader, bot: trade and read their own accounts (the `accounts` claim), nothing else.
 * - ops: read every account and halt / cancel-only / resume; cannot trade or change mode.
 * - auditor: read every account's ledgers and the audit trail; cannot trade.
 * - admin: change mode, halt, read every account and the audit trail; trading still needs trader/bot and scope,
 *   so an admin token cannot place orders by accident.
 */

import type { Principal, Role } from './principal.ts'

/** Whether the principal holds one of `roles` (a constant below: a literal made per call was an array per request). */
function has(principal: Principal, roles: readonly Role[]): boolean {
  // A loop, not some(callback): a closure per call, and a check runs on every request.
  const held = principal.roles
  for (let index = 0; index < held.length; index++) if (roles.includes(held[index] as Role)) return true
  return false
}

const TRADING: readonly Role[] = ['trader', 'bot']
const READING_EVERY: readonly Role[] = ['ops', 'auditor', 'admin']
const HALTING: readonly Role[] = ['ops', 'admin']
const AUDITING: readonly Role[] = ['auditor', 'admin']
const ADMINISTERING: readonly Role[] = ['admin']

/** Place, cancel, amend orders and flatten on `account`. */
export function canTrade(principal: Principal, account: string): boolean {
  return has(principal, TRADING) && principal.accounts.includes(account)
}

/** Read orders, fills, positions, balances, ledger and streams of `account`. */
export function canRead(principal: Principal, account: string): boolean {
  return canReadEvery(principal) || canTrade(principal, account)
}

/** Read every account (canRead holds for any account). */
export function canReadEvery(principal: Principal): boolean {
  return has(principal, READING_EVERY)
}

/** Halt, cancel-only and resume. */
export function canHalt(principal: Principal): boolean {
  return has(principal, HALTING)
}

/** Audit verification, seals, anchors, decision records of any account. */
export function canReadAudit(principal: Principal): boolean {
  return has(principal, AUDITING)
}

/** Switch between paper, shadow and live. */
export function canChangeMode(principal: Principal): boolean {
  return has(principal, ADMINISTERING)
}
