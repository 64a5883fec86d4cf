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
  // A verified principal is immutable and reused while its token is cached, so its kernel form is made once.
  const known = kernelPrincipals.get(principal)
  if (known !== undefined) return known
  const made: KernelPrincipal = { id: principal.sub, roles: [...principal.roles], accounts: [...principal.accounts], liveAllowed: false }
  // Shared by every command of this principal: frozen, so nothing can change one command's principal under another.
  Object.freeze(made.roles)
  Object.freeze(made.accounts)
  Object.freeze(made)
  kernelPrincipals.set(principal, made)
  return made
}

const kernelPrincipals = new WeakMap<Principal, KernelPrincipal>()
