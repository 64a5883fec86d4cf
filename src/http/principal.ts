/**
 * The bridge between who the token says the caller is (http/auth Principal: `sub`, roles, accounts) and the identity
 * the kernel records in its decisions (domain Principal: `id`, roles, accounts, liveAllowed).
 */

import type { Principal as KernelPrincipal } from '../domain/accounts.ts'
import type { Principal } from './auth/index.ts'

/**
 * The kernel principal for a verified caller. `liveAllowed` stays false: no token claim grants live trading yet, and
 * the safe default (§14) is that nobody trades live unless something explicitly says so.
 */
export function kernelPrincipal(principal: Principal): KernelPrincipal {
  return { id: principal.sub, roles: [...principal.roles], accounts: [...principal.accounts], liveAllowed: false }
}
