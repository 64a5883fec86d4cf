/**
 * One account's own kill switch (seed 004 §9: accounts are kept apart — rate, reconciliation, Unknown). The auto-stop's
 * order_rate breaker with scope `account` (src/runtime/auto-stop.ts) engages it on the account whose rate tripped it,
 * so one runaway bot stops its own account and every other account trades on. It does to that account what the
 * gateway's switch does to all (kill-switch.ts), with the account's codes: its new orders and amends are refused at
 * intake (guard 3, ACCOUNT_HALTED / ACCOUNT_CANCEL_ONLY), its places and amends waiting in a lane end as it engages,
 * the send gate holds what is left (send.ts switchHolds), its cancels always pass, a flatten's closes go under HALT
 * and wait under CANCEL_ONLY, as under the gateway's switch. That last is deliberate, though a close only reduces
 * risk: "only cancels reach the venue" is what CANCEL_ONLY means and the one thing that sets it apart from HALT (both
 * refuse new orders and amends and end the waiting ones), and it is the breaker's configured `action` an operator
 * chose; an account whose closes must go while its bot is stopped is stopped with HALT. Held closes are never ended:
 * they go at the account's RESUME, or when an operator moves the account's switch to HALT (POST
 * /v1/accounts/:id/halt), which keeps the bot stopped (specs/kernel/account-switch.test.ts, a flatten's closes under
 * each switch). An operator may also stop an account by hand with either switch (POST /v1/accounts/:id/halt |
 * cancel-only): the same decision as the breaker's, its principal the operator's.
 *
 * A durable decision: `account.switch_changed` (the account, the action, the switch, who — the operator, or
 * `egress-auto-stop` —, the note: the operator's, or the breaker's naming it and its figures, and from payload version
 * 13 the config digest and build it was decided under) is applied into KernelState.accountSwitches, so a restart and a
 * snapshot keep it. It is lifted by an operator: RESUME of that account (POST /v1/accounts/:id/resume), or the
 * gateway's RESUME, which lifts every account's (kill-switch decided by admin.ts decideKillSwitch). A RESUME ends
 * first the account's work a cut-short engagement left held, as the gateway's RESUME does, so nothing held goes out as
 * if just asked for. Decided in parts like the gateway's switch (KillSwitchCommand.ordersMax).
 */

import type { DomainEvent, EventOf } from '../domain/events/index.ts'
import { switchFor } from '../domain/modes.ts'
import { attributed, attributionOf, type Attribution } from './attribution.ts'
import { DONE_REPLY, type Decision } from './commands.ts'
import type { KillSwitchCommand } from './admin-commands.ts'
import { endAccountWork, type EndedWork } from './kill-switch.ts'
import type { KernelState } from './state.ts'

type AccountSwitchEvent = EventOf<'account.switch_changed'>

export function applyAccountSwitch(state: KernelState, event: AccountSwitchEvent): void {
  if (event.switch === 'normal') state.accountSwitches.delete(event.accountId)
  else state.accountSwitches.set(event.accountId, { switch: event.switch, principalId: event.principalId, atMs: event.atMs, note: event.note })
}

/**
 * A kill switch for one account (`command.accountId`; the caller checked the principal is an operator). HALT or
 * CANCEL_ONLY engages it (with the first part), the same asked again ends the next part of its waiting work; the other
 * one asked moves it, as the gateway's switch moves (an operator's POST /v1/accounts/:id/halt | cancel-only). The
 * auto-stop never asks that: it trips only an account with no switch, asked in the tick it found none, and asks a
 * further part only in the tick it found its own switch still in force (runtime decision-parts.ts), so a breaker
 * never turns an operator's switch into its own. RESUME lifts it with its last part; RESUME of an account not stopped
 * decides nothing (idempotent).
 */
export function decideAccountSwitch(state: KernelState, command: KillSwitchCommand & { accountId: string }, ordersMax: number | null): Decision {
  const { accountId } = command
  const target = switchFor(command.action)
  const current = state.accountSwitches.get(accountId)
  const attribution = attributionOf(state, command)
  const at = { atMs: command.nowMs, accountId, principalId: command.principal.id, ordersMax, ...attribution }
  const event = attributed<AccountSwitchEvent>({ type: 'account.switch_changed', atMs: command.nowMs, accountId, action: command.action, switch: target, principalId: command.principal.id, note: command.note }, attribution)
  if (target === 'normal') {
    if (current === undefined) return { events: [], reply: DONE_REPLY }
    const ended = endLeftHeld(state, { ...at, holding: current.switch })
    return { events: ended.complete ? [...ended.events, event] : ended.events, reply: DONE_REPLY }
  }
  const detail = `${command.action} of account ${accountId} engaged before the amend was sent: not sent, the order stands at its old terms`
  if (current?.switch === target) {
    if (ordersMax === null) return { events: [], reply: DONE_REPLY }
    return { events: endAccountWork(state, { ...at, holding: target, amendDetail: detail }).events, reply: DONE_REPLY }
  }
  if (current === undefined && !state.policies.has(accountId)) {
    return { events: [], reply: { kind: 'refused', reason: 'POLICY_MISSING', detail: `no policy for account ${accountId}: nothing of it is accepted to stop` } }
  }
  // Engaged, or moved from the other switch (an operator's CANCEL_ONLY -> HALT lets the account's held closes go, as
  // the gateway's does: send.ts accountSwitchHolds reads the switch in force). The switch takes effect in this decision
  // whatever is left: the gate holds the rest until a part ends it.
  return { events: [...endAccountWork(state, { ...at, holding: target, amendDetail: detail }).events, event], reply: DONE_REPLY }
}

/**
 * The gateway's RESUME lifting every account's own switch (admin.ts): the work each left held is ended first, one
 * account's per decision (in parts of `ordersMax` orders; null: all of it in this one), by account id, then one
 * `account.switch_changed` RESUME per account, by account id, at most `ordersMax` of them per decision, so that no part
 * writes more records than a part ending `ordersMax` orders may (runtime decision-parts.ts keeps a part within half the
 * log's queue; with more accounts stopped than that in one decision, every RESUME was refused as overloaded). Complete
 * with the decision that lifts the last; null: all in this one (a command without parts, as older leaders decided).
 */
export function liftAccountSwitches(state: KernelState, input: { atMs: number; principalId: string; note: string; ordersMax: number | null } & Attribution): EndedWork {
  const accountIds = [...state.accountSwitches.keys()].sort()
  const events: DomainEvent[] = []
  for (const accountId of accountIds) {
    const holding = state.accountSwitches.get(accountId)?.switch
    if (holding === undefined) continue
    const ended = endLeftHeld(state, { atMs: input.atMs, accountId, principalId: input.principalId, holding, ordersMax: input.ordersMax, configDigest: input.configDigest, buildCommit: input.buildCommit })
    events.push(...ended.events)
    if (input.ordersMax !== null && ended.events.length > 0) return { events, complete: false }
  }
  const liftsMax = input.ordersMax === null ? accountIds.length : Math.max(1, input.ordersMax)
  for (const accountId of accountIds.slice(0, liftsMax)) {
    events.push(attributed<AccountSwitchEvent>({ type: 'account.switch_changed', atMs: input.atMs, accountId, action: 'RESUME', switch: 'normal', principalId: input.principalId, note: input.note }, input))
  }
  return { events, complete: accountIds.length <= liftsMax }
}

function endLeftHeld(state: KernelState, input: { atMs: number; accountId: string; principalId: string; holding: 'halted' | 'cancel_only'; ordersMax: number | null } & Attribution): EndedWork {
  const amendDetail = `held under account ${input.accountId}'s own switch ${input.holding}, not ended as it engaged (its parts were cut short): ended at RESUME, not sent; the order stands at its old terms`
  return endAccountWork(state, { ...input, amendDetail })
}
