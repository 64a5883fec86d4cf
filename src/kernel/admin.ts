/**
 * Operator and bootstrap decisions: configuration, mode, kill switches and paper funding (resends: resend.ts). Each
 * is a recorded event so that replay reproduces the decisions that depended on it.
 */

import { DONE_REPLY, type Decision } from './commands.ts'
import type { ConfigureCommand, FundCommand, KillSwitchCommand, SetModeCommand } from './admin-commands.ts'
import { reachesFurther, switchFor } from '../domain/modes.ts'
import { endDecidedWork, MODE_ESCALATION_ORDERS_MAX } from './mode-escalation.ts'
import { endHeldWork, endWorkLeftHeld, KILL_SWITCH_ORDERS_MAX } from './kill-switch.ts'
import { decideAccountSwitch, liftAccountSwitches } from './account-switch.ts'
import { isOperator, mayChangeMode } from './permissions.ts'
import { HOLD_RULE_GRACE } from './reservations.ts'
import { RETIRE_RULE_UNTOUCHED } from './retention.ts'
import { attributed, attributionOf } from './attribution.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import type { KernelState } from './state.ts'

export function decideConfigure(state: KernelState, command: ConfigureCommand): Decision {
  const events: DomainEvent[] = []
  if (state.config?.digest !== command.config.digest || gainsHeldCap(state, command) || gainsKeyWindow(state, command) || gainsSelfTrade(state, command)) events.push({ type: 'kernel.configured', atMs: command.nowMs, config: command.config })
  // A log on an older retirement rule (or none recorded) takes this build's from here on; replay applies each rule
  // from its own record, so what was decided before replays as it was.
  if (state.retireRule !== RETIRE_RULE_UNTOUCHED) events.push({ type: 'kernel.retire_rule_adopted', atMs: command.nowMs, rule: RETIRE_RULE_UNTOUCHED })
  // The same for the holds a synthetic fill keeps until its true-up (reservations.ts HOLD_RULE_SYNTHETIC), and how long
  // an ended order keeps them (HOLD_RULE_GRACE): a log on rule 1 (or none) takes rule 2 from here on.
  if ((state.holdRule ?? 0) < HOLD_RULE_GRACE) events.push({ type: 'kernel.hold_rule_adopted', atMs: command.nowMs, rule: HOLD_RULE_GRACE })
  return { events, reply: DONE_REPLY }
}

/**
 * A log configured before the cap on ended orders held existed (its kernel.configured has no terminalOrdersHeldMax)
 * records the same config again, with the cap, at the first start of a build that has it: the config digest covers
 * the config file, not the kernel's defaults, so an unchanged file would otherwise leave that log without a cap (and
 * its memory bounded by time alone) for good. Replay applies each record as written, so what came before replays as it
 * was decided.
 */
function gainsHeldCap(state: KernelState, command: ConfigureCommand): boolean {
  return state.config !== null && state.config.params.terminalOrdersHeldMax === undefined && command.config.params.terminalOrdersHeldMax !== undefined
}

/**
 * The same for the idempotency key window (src/kernel/key-window.ts): a log configured before it existed holds every
 * key for good until a build that has it records the config again, with the window, at its first start.
 */
function gainsKeyWindow(state: KernelState, command: ConfigureCommand): boolean {
  return state.config !== null && state.config.params.idempotencyKeyHeldMs === undefined && command.config.params.idempotencyKeyHeldMs !== undefined
}

/**
 * The same for self-trade prevention: a log whose kernel.configured has a policy without selfTrade (an older build's,
 * which had no such check; absent means `allow`) records the config again at the first start of a build that writes
 * it (default `reject`), or an unchanged config file would leave that log without the check for good. What was
 * decided before replays and re-decides with the record it was decided under.
 */
function gainsSelfTrade(state: KernelState, command: ConfigureCommand): boolean {
  if (state.config === null || !command.config.policies.some((policy) => policy.selfTrade !== undefined)) return false
  return state.config.policies.some((policy) => policy.selfTrade === undefined)
}

export function decideSetMode(state: KernelState, command: SetModeCommand): Decision {
  if (!mayChangeMode(command.principal)) return { events: [], reply: { kind: 'refused', reason: 'PERMISSION_DENIED', detail: 'changing mode needs admin' } }
  if (state.mode === command.mode) return { events: [], reply: DONE_REPLY }
  const attribution = attributionOf(state, command)
  const event = attributed({ type: 'mode.changed', atMs: command.nowMs, mode: command.mode, principalId: command.principal.id, note: command.note }, attribution)
  if (!reachesFurther(command.mode, state.mode)) return { events: [event], reply: DONE_REPLY }
  // Work decided under the mode before is ended first, so no send of it is ever decided under the new one.
  const detail = `decided in ${state.mode}; the mode changed to ${command.mode} before it was sent`
  // Absent (a start's own change; the command records of leaders before parts): all of it, as those leaders decided.
  const ordersMax = command.ordersMax === undefined ? null : Math.min(command.ordersMax, MODE_ESCALATION_ORDERS_MAX)
  const ended = endDecidedWork(state, { atMs: command.nowMs, principalId: command.principal.id, ...attribution, detail, ordersMax })
  // More work than one decision ends: the change is recorded by the decision that ends the last of it.
  if (!ended.complete) return { events: ended.events, reply: DONE_REPLY }
  return { events: [...ended.events, event], reply: DONE_REPLY }
}

export function decideKillSwitch(state: KernelState, command: KillSwitchCommand): Decision {
  if (!isOperator(command.principal)) return { events: [], reply: { kind: 'refused', reason: 'PERMISSION_DENIED', detail: 'kill switches need ops or admin' } }
  const target = switchFor(command.action)
  const attribution = attributionOf(state, command)
  const event = attributed({ type: 'switch.changed', atMs: command.nowMs, action: command.action, switch: target, principalId: command.principal.id, note: command.note }, attribution)
  // Absent (the command records of leaders before parts): all of it in one decision, as those leaders decided.
  const ordersMax = command.ordersMax === undefined ? null : Math.min(command.ordersMax, KILL_SWITCH_ORDERS_MAX)
  const at = { atMs: command.nowMs, principalId: command.principal.id, ...attribution, ordersMax }
  // One account's own switch (account-switch.ts): that account only.
  if (command.accountId !== undefined) return decideAccountSwitch(state, { ...command, accountId: command.accountId }, ordersMax)
  // RESUME lifts the accounts' own switches too, with the gateway's or, the gateway's not engaged, on their own.
  if (target === 'normal' && state.tradingSwitch === 'normal') {
    if (state.accountSwitches.size === 0) return { events: [], reply: DONE_REPLY }
    return { events: liftAccountSwitches(state, { ...at, note: command.note }).events, reply: DONE_REPLY }
  }
  if (state.tradingSwitch === target) {
    // Asked again in parts: the next part of the work the switch holds, left by the part that engaged it.
    if (ordersMax === null) return { events: [], reply: DONE_REPLY }
    return { events: endHeldWork(state, { ...at, target, action: command.action }).events, reply: DONE_REPLY }
  }
  // RESUME ends what is left held under the switch it lifts (an older build's, or parts cut short) before it lifts it:
  // more than one decision ends, and the switch stays until the decision that ends the last of it. The accounts' own
  // switches are lifted with it (the gateway's ended every account's waiting work, theirs included): in one decision
  // without parts, in parts in the decisions after it, the trading switch with the last.
  if (target === 'normal') {
    const ended = endWorkLeftHeld(state, at)
    if (!ended.complete) return { events: ended.events, reply: DONE_REPLY }
    // In parts, the accounts are lifted in the decisions after the one that ended the gateway's last held work, so
    // that no part takes more records than ordersMax orders' ends (account-switch.ts liftAccountSwitches).
    if (ordersMax !== null && ended.events.length > 0 && state.accountSwitches.size > 0) return { events: ended.events, reply: DONE_REPLY }
    const lifted = liftAccountSwitches(state, { ...at, note: command.note })
    return { events: lifted.complete ? [...ended.events, ...lifted.events, event] : lifted.events, reply: DONE_REPLY }
  }
  // Places and amends waiting to be sent end as the switch engages, so none goes out at RESUME as if just asked for
  // (kill-switch.ts). The switch engages in this decision whatever is left: the gate holds the rest until it is ended.
  return { events: [...endHeldWork(state, { ...at, target, action: command.action }).events, event], reply: DONE_REPLY }
}

export function decideFund(state: KernelState, command: FundCommand): Decision {
  if (state.mode === 'live') return { events: [], reply: { kind: 'refused', reason: 'POLICY_DENIED', detail: 'funding is for paper accounts; live balances come from the venue' } }
  if (command.amount === 0n) return { events: [], reply: DONE_REPLY }
  const event = attributed(
    { type: 'account.funded', atMs: command.nowMs, accountId: command.accountId, asset: command.asset, amount: command.amount, reference: command.reference, principalId: command.principalId },
    attributionOf(state, command),
  )
  return { events: [event], reply: DONE_REPLY }
}
