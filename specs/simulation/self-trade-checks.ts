/**
 * The scenario draws each account's policy selfTrade (scenario.ts): a refusal SELF_TRADE_PREVENTED of an order (a
 * place, an amend, a list's leg) is right only on an account whose setting is `reject` — on one that says `allow`
 * the policy guard let a crossing order through (or should have), so such a refusal breaks the policy the account
 * was configured with. Refusals are counted per setting (`selfTradePrevented:reject`), so a run shows it exercised.
 */

import type { WorkloadContext } from './workload.ts'

/** `reply` is the answer to an order `what` of `accountId`; counts and checks a self-trade refusal. */
export function checkSelfTradeReply(ctx: WorkloadContext, accountId: string, reply: { kind: string; reason?: string }, what: string): void {
  if (reply.reason !== 'SELF_TRADE_PREVENTED') return
  const setting = ctx.scenario.selfTrade[accountId] ?? 'reject'
  const counter = `selfTradePrevented:${setting}`
  ctx.counters[counter] = (ctx.counters[counter] ?? 0) + 1
  if (setting !== 'reject') ctx.violation('permissions', `${what} of ${accountId} was refused SELF_TRADE_PREVENTED though its policy says selfTrade "${setting}"`)
}
