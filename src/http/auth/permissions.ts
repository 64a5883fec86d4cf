/**
 * What a principal may do (issue 4, "Roles"). Roles add up: a principal holding several has the union of their rights.
 *
 * - trader, bot: trade and read their own accounts (the `accounts` claim), nothing else.
 * - ops: read every account and halt / cancel-only / resume; cannot trade or change mode.
 * - auditor: read every account's ledgers and the audit trail; cannot trade.
 * - admin: change mode, halt, read every account and the audit trail; trading still needs trader/bot and scope,
 *   so an admin token cannot place orders by accident.
 */

import { hasAnyRole, OPERATOR_ROLES, TRADING_ROLES } from '../../domain/accounts.ts'
import type { Principal, Role } from './principal.ts'

// Constants, not literals per call: a check runs on every request.
const READING_EVERY: ReadonlySet<Role> = new Set<Role>(['ops', 'auditor', 'admin'])
const AUDITING: ReadonlySet<Role> = new Set<Role>(['auditor', 'admin'])
const ADMINISTERING: ReadonlySet<Role> = new Set<Role>(['admin'])

/** Place, cancel, amend orders and flatten on `account`. */
export function canTrade(principal: Principal, account: string): boolean {
  return hasAnyRole(principal, TRADING_ROLES) && principal.accounts.includes(account)
}

/** Read orders, fills, positions, balances, ledger and streams of `account`. */
export function canRead(principal: Principal, account: string): boolean {
  return canReadEvery(principal) || canTrade(principal, account)
}

/** Read every account (canRead holds for any account). */
export function canReadEvery(principal: Principal): boolean {
  return hasAnyRole(principal, READING_EVERY)
}

/** Halt, cancel-only and resume. */
export function canHalt(principal: Principal): boolean {
  return hasAnyRole(principal, OPERATOR_ROLES)
}

/** Audit verification, seals, anchors, decision records of any account. */
export function canReadAudit(principal: Principal): boolean {
  return hasAnyRole(principal, AUDITING)
}

/** Switch between paper, shadow and live. */
export function canChangeMode(principal: Principal): boolean {
  return hasAnyRole(principal, ADMINISTERING)
}
