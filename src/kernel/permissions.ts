/**
 * Who may act on an order or an account outside intake: a trading principal within its account scope, or an
 * operator (ops/admin) for any account.
 */

import { hasAnyRole, OPERATOR_ROLES, TRADING_ROLES, type Principal } from '../domain/accounts.ts'

export function mayActFor(principal: Principal, accountId: string): boolean {
  if (hasAnyRole(principal, OPERATOR_ROLES)) return true
  return hasAnyRole(principal, TRADING_ROLES) && principal.accounts.includes(accountId)
}

export function isOperator(principal: Principal): boolean {
  return hasAnyRole(principal, OPERATOR_ROLES)
}
