/**
 * Principals, accounts and per-account policy. A principal is who is asking (from auth); a policy is what an account
 * may do. §14 safe defaults: a missing policy denies, market orders are off unless listed, live is off unless allowed.
 */

import * as v from 'valibot'
import { countSchema, idSchema, msSchema, positiveUnitsSchema } from './schema-kit.ts'

export const ROLES = ['trader', 'bot', 'ops', 'auditor', 'admin'] as const
export type Role = (typeof ROLES)[number]

/**
 * Roles that may place, amend and cancel orders for the accounts in their scope (README "Authentication"): an admin
 * trades only if it also holds one of these, as HTTP's canTrade has it.
 */
export const TRADING_ROLES: ReadonlySet<Role> = new Set<Role>(['trader', 'bot'])
/** The kinds of principal a policy's newOrdersBy names (principalKindOf). */
export const PRINCIPAL_KINDS = ['trader', 'bot'] as const

/** What a policy's selfTrade may say: refuse an order that crosses the account's own, or let it through. */
export const SELF_TRADE_SETTINGS = ['reject', 'allow'] as const
export type SelfTradeSetting = (typeof SELF_TRADE_SETTINGS)[number]

/** Roles that may operate kill switches, modes, funding and flatten. */
export const OPERATOR_ROLES: ReadonlySet<Role> = new Set<Role>(['ops', 'admin'])

export const principalSchema = v.strictObject({
  id: idSchema,
  roles: v.array(v.picklist(ROLES)),
  /** Account scope: the accounts this principal may act for. */
  accounts: v.array(idSchema),
  /** Whether this principal may trade when the gateway is live (one of the live prerequisites, DESIGN §6). */
  liveAllowed: v.boolean(),
})

export type Principal = v.InferOutput<typeof principalSchema>

/**
 * The name the gateway acts under in the log when no caller asked (kernel/inbox.ts resuming a cancel); its other
 * principals are `egress-…` (`egress-bootstrap`, `egress-audit`, `egress-auto-stop`). No token subject may take these names
 * (isGatewayPrincipalId), or a caller's acts would read in the log, and in /explain, as the gateway's own.
 */
export const GATEWAY_PRINCIPAL_ID = 'egress'

/** Whether `id` is one of the gateway's own names: `egress`, or `egress-` and anything, in any letter case. */
export function isGatewayPrincipalId(id: string): boolean {
  const lower = id.toLowerCase()
  return lower === GATEWAY_PRINCIPAL_ID || lower.startsWith(`${GATEWAY_PRINCIPAL_ID}-`)
}

/**
 * Whether two principal ids may name one person: equal in any letter case. Where a rule needs two distinct people (an
 * override's approval, kernel/venue-health.ts), ids that differ only in case count as one: identity providers and hand
 * minted tokens spell a name as it was typed, and ids are printable ASCII (idSchema), so this is the whole comparison.
 */
export function samePersonIds(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

export const policySchema = v.strictObject({
  accountId: idSchema,
  /** Instrument keys (`venue:symbol`) the account may trade. */
  instruments: v.array(idSchema),
  /** Instrument keys for which market orders are explicitly enabled; absent means refused (§14). */
  marketOrderInstruments: v.array(idSchema),
  maxOrderNotional: positiveUnitsSchema,
  maxOpenOrders: countSchema,
  liveAllowed: v.boolean(),
  /** Validity window (§15 check 3: "policy ALLOW within its validity"). */
  validFromMs: msSchema,
  validUntilMs: msSchema,
  /**
   * Which kinds of principal may place new orders and amend them (§9 "policy (bot/user) enforces new/cancel"; kinds:
   * principalKindOf). Absent — every record written before the field existed, and every policy that does not set it —
   * means every trading principal. Cancels never read it: a switch that stops new orders must never stop cancels.
   */
  newOrdersBy: v.optional(v.array(v.picklist(PRINCIPAL_KINDS))),
  /**
   * Self-trade prevention (src/kernel/intake/self-trade.ts): `reject` refuses an order that would cross an open order
   * of the same account on the other side (SELF_TRADE_PREVENTED), `allow` lets it go to the venue. This build records
   * every policy with it (the config's, default `reject`: src/runtime/paper.ts). Absent — only in a `kernel.configured`
   * an older build wrote (payload version 8 or older), whose decisions had no such check — means `allow`, so such a
   * log re-decides as it was decided.
   */
  selfTrade: v.optional(v.picklist(SELF_TRADE_SETTINGS)),
})

export type Policy = v.InferOutput<typeof policySchema>

/** The fields of a policy a config may set; every other field keeps the default of whoever builds the policy. */
export type PolicySettings = Partial<Omit<Policy, 'accountId'>>

export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number]

/**
 * A principal's kind for newOrdersBy: a bot when its token holds the `bot` role (whatever else it holds: §14, the
 * stricter reading of a token that claims both), else a trader.
 */
export function principalKindOf(principal: Principal): PrincipalKind {
  return principal.roles.includes('bot') ? 'bot' : 'trader'
}

/** Whether the policy lets this principal's kind place new orders (and amend): absent newOrdersBy lets every kind. */
export function newOrdersAllowedFor(policy: Policy, principal: Principal): boolean {
  return policy.newOrdersBy === undefined || policy.newOrdersBy.includes(principalKindOf(principal))
}

/** Whether the policy refuses orders that cross the account's own: only when it says `reject` (absent: an older log's). */
export function selfTradeRefused(policy: Policy): boolean {
  return policy.selfTrade === 'reject'
}

/** Whether the principal holds one of `roles` (the kernel's and the HTTP layer's checks alike). */
export function hasAnyRole(principal: { readonly roles: readonly Role[] }, roles: ReadonlySet<Role>): boolean {
  // A loop, not some() with an arrow: every intake asks, and the arrow was a function and its scope per call.
  for (const role of principal.roles) if (roles.has(role)) return true
  return false
}

/**
 * The principal's roles as a decision record lists them ("trader,ops"). A frozen roles array (the HTTP layer's
 * principals, one per cached token) cannot change, so its text is made once and kept while the array lives.
 */
export function rolesText(roles: readonly Role[]): string {
  if (!Object.isFrozen(roles)) return roles.join(',')
  let text = rolesTexts.get(roles)
  if (text === undefined) rolesTexts.set(roles, (text = roles.join(',')))
  return text
}

const rolesTexts = new WeakMap<readonly Role[], string>()

export function policyValidAt(policy: Policy, nowMs: number): boolean {
  return nowMs >= policy.validFromMs && nowMs < policy.validUntilMs
}
