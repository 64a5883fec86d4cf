/**
 * Who may act on an order or an account outside intake: a trading principal within its account scope, or an
 * operator (ops/admin) for any account — what HTTP allows for cancel and flatten (README "Authentication"). An amend
 * passes here too but is trading: its policy guard, as intake's for a place, refuses (recorded, PERMISSION_DENIED) a
 * principal without trader or bot (TRADING_ROLES: admin is not one, as HTTP's canTrade has it). Changing the mode is the admin's alone (issue 4, "admin changes mode"), the
 * rule the HTTP layer also applies (src/http/auth/permissions.ts canChangeMode): the kernel holds it too, so the two
 * cannot drift and no other way in (a command from another front end, a bug in a route) can change mode as ops.
 */

import { hasAnyRole, OPERATOR_ROLES, TRADING_ROLES, type Principal, type Role } from '../domain/accounts.ts'

const MODE_CHANGE_ROLES: ReadonlySet<Role> = new Set<Role>(['admin'])

export function mayActFor(principal: Principal, accountId: string): boolean {
  if (hasAnyRole(principal, OPERATOR_ROLES)) return true
  return hasAnyRole(principal, TRADING_ROLES) && principal.accounts.includes(accountId)
}

export function isOperator(principal: Principal): boolean {
  return hasAnyRole(principal, OPERATOR_ROLES)
}

export function mayChangeMode(principal: Principal): boolean {
  return hasAnyRole(principal, MODE_CHANGE_ROLES)
}
