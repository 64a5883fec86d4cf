/**
 * Commands decided in parts sized to the log's queue: a decision whose records the queue cannot take is refused as
 * overloaded (engine.ts) however often it is asked, and a mode escalation, a flatten or a kill switch with more orders
 * to end than that is exactly the one that must not be refused. Each part is submitted once the one before is durable.
 * Mode changes and flattens are run by GatewayCommands (through decideUntilLast); kill switches here, for the
 * operator's (GatewayCommands), the auto-stop breakers' (auto-stop.ts) and the tamper response's (audit-duty.ts) alike.
 */

import { buildMemberOf } from './build-member.ts'
import type { Clock } from '../domain/clock.ts'
import { switchFor, type KillSwitchAction } from '../domain/modes.ts'
import type { Principal } from '../domain/accounts.ts'
import { switchWorkLeft, type Reply } from '../kernel/index.ts'
import type { Committed, Engine } from './engine.ts'
import { EngineOverloadedError } from './engine-types.ts'

/**
 * Records one order's end may take at most (an amend failed and a cancel asked, an OCO sibling's end with it; a
 * flatten's cancel: an amend failed or the order Unknown, and the cancel asked), and a decision's own (its command
 * record, mode.changed or switch.changed; account.flatten_requested, whose closes the other half leaves room for: one
 * per base asset held and its alert, and the closes past each one's first, for holdings above maxQty, at most ordersMax
 * in all — kernel flatten.ts): a part is kept to half the log's queue.
 */
const PART_RECORDS_PER_ORDER_MAX = 4
const PART_RECORDS_OWN = 2

/**
 * Decisions one command in parts takes at most: work refilled faster than it is ended gives up (a switch engaged leaves
 * what is left held; a repeat ends it).
 */
const PART_DECISIONS_MAX = 1024

/**
 * HALT and CANCEL_ONLY asked of each engine, counted as each first decision is submitted (decided in that tick): a
 * RESUME in parts lifts with its last part, so one asked between its parts, finding the switch still engaged and
 * answered done, would be lifted by the RESUME asked before it. The RESUME sees the count move and gives up instead.
 */
const switchesAsked = new WeakMap<Engine, number>()

/**
 * The same for the accounts' own switches (HALT or CANCEL_ONLY of one account: the auto-stop's order_rate trips with
 * scope account, an operator's stop or move of one). The gateway's RESUME lifts the accounts' switches in its later
 * parts, so an account stopped between its parts would be lifted by the RESUME asked before the stop; the RESUME sees
 * this count move and gives up instead.
 */
const accountSwitchesAsked = new WeakMap<Engine, number>()

/**
 * The same per account: an account's RESUME in parts lifts with its last part, so an operator's HALT or CANCEL_ONLY of
 * that account asked between its parts (the same switch again, or a move to the other) would be lifted by the RESUME
 * asked before it; the RESUME sees the account's count move and gives up instead. One entry per account ever asked.
 */
const accountSwitchAskedCounts = new WeakMap<Engine, Map<string, number>>()

function accountSwitchAskedCount(engine: Engine, accountId: string): number {
  return accountSwitchAskedCounts.get(engine)?.get(accountId) ?? 0
}

function noteAccountSwitchAsked(engine: Engine, accountId: string): void {
  accountSwitchesAsked.set(engine, (accountSwitchesAsked.get(engine) ?? 0) + 1)
  let counts = accountSwitchAskedCounts.get(engine)
  if (counts === undefined) accountSwitchAskedCounts.set(engine, (counts = new Map()))
  counts.set(accountId, (counts.get(accountId) ?? 0) + 1)
}

/** How many orders one part ends, for a log whose queue takes `queueRecordsMax` records. */
export function decisionOrdersMax(queueRecordsMax: number): number {
  return Math.max(1, Math.floor((queueRecordsMax / 2 - PART_RECORDS_OWN) / PART_RECORDS_PER_ORDER_MAX))
}

/** A command's answer and the LSN of the last record its parts wrote (null: none wrote any). */
export interface PartsDecided {
  reply: Reply
  lsn: number | null
}

/**
 * Submits a command's parts, each once the one before is durable, until one is the last: it writes nothing (refused,
 * nothing left, already in force) or `isLast` says so (judged by the decision itself, never by state a concurrent
 * command may have moved on). `interrupted`, asked after each other part, may end the run with its own answer. Past
 * PART_DECISIONS_MAX parts, refused OVERLOADED with `gaveUp`'s detail.
 */
export async function decideUntilLast(
  submit: () => Promise<Committed>,
  isLast: (committed: Committed) => boolean,
  gaveUp: (decisions: number) => string,
  interrupted: () => Reply | null = () => null,
): Promise<PartsDecided> {
  let lsn: number | null = null
  for (let decisions = 1; ; decisions++) {
    const committed = await submit()
    lsn = lastLsnOf(committed) ?? lsn
    if (committed.lsns.length === 0 || isLast(committed)) return { reply: committed.decision.reply, lsn }
    const stop = interrupted()
    if (stop !== null) return { reply: stop, lsn }
    if (decisions >= PART_DECISIONS_MAX) return { reply: { kind: 'refused', reason: 'OVERLOADED', detail: gaveUp(decisions) }, lsn }
  }
}

/**
 * Decides a kill switch in parts (kernel kill-switch.ts). HALT and CANCEL_ONLY engage with the first decision, whose
 * answer is the answer (rejected OVERLOADED, nothing applied, when even that part finds no room); the work the switch
 * holds is then ended in parts while the switch is still this one: a RESUME or another switch decided in between takes
 * it over, and a part is asked in the tick the switch was found this one, so a part never changes the switch. A part
 * refused as overloaded leaves the rest held by the switch (the gate sends none of it): the same switch asked again
 * ends it, RESUME ends it before it lifts. RESUME ends what is left in parts and lifts the switch with the last.
 */
export async function decideSwitchInParts(engine: Engine, clock: Clock, request: { principal: Principal; action: KillSwitchAction; note: string; accountId?: string }): Promise<PartsDecided> {
  const ordersMax = decisionOrdersMax(engine.wal.options.queueRecordsMax)
  const build = buildMemberOf(engine)
  const submit = (): Promise<Committed> => engine.submit({ kind: 'kill_switch', nowMs: clock.nowMs(), ...request, ordersMax, ...build })
  if (request.accountId !== undefined) return accountSwitchInParts(engine, submit, { accountId: request.accountId, action: request.action })
  const target = switchFor(request.action)
  if (target === 'normal') return liftInParts(engine, submit)
  const decided = submit()
  switchesAsked.set(engine, (switchesAsked.get(engine) ?? 0) + 1)
  const answer = await decided
  let lsn = lastLsnOf(answer)
  if (answer.decision.reply.kind === 'refused') return { reply: answer.decision.reply, lsn }
  lsn = await askRemainingParts(submit, lsn, () => engine.state.tradingSwitch === target && switchWorkLeft(engine.state))
  return { reply: answer.decision.reply, lsn }
}

/**
 * After a switch's first part: the same switch asked again while `wanted` (the switch still this one, its work left),
 * up to PART_DECISIONS_MAX decisions in all; a part refused as overloaded ends it (the send gate holds the rest).
 * Resolves to the last LSN a part reached.
 */
async function askRemainingParts(submit: () => Promise<Committed>, firstLsn: number | null, wanted: () => boolean): Promise<number | null> {
  let lsn = firstLsn
  for (let decisions = 1; decisions < PART_DECISIONS_MAX && wanted(); decisions++) {
    const part = await submit().catch((error: unknown) => {
      if (error instanceof EngineOverloadedError) return null
      throw error
    })
    if (part === null) break
    lsn = lastLsnOf(part) ?? lsn
  }
  return lsn
}

/**
 * One account's own switch (kernel account-switch.ts), decided in parts as the gateway's: HALT or CANCEL_ONLY engages
 * with the first part, whose answer is the answer, and its waiting work is ended in parts while the account's switch
 * is still this one; RESUME ends what is left held in parts and lifts the switch with the last (its
 * account.switch_changed), unless the account's switch is asked between its parts: then it gives up, not lifted.
 */
async function accountSwitchInParts(engine: Engine, submit: () => Promise<Committed>, request: { accountId: string; action: KillSwitchAction }): Promise<PartsDecided> {
  const target = switchFor(request.action)
  if (target === 'normal') {
    const askedBefore = accountSwitchAskedCount(engine, request.accountId)
    return decideUntilLast(
      submit,
      isLift,
      (decisions) => `RESUME of account ${request.accountId} ended held work in ${decisions} decisions and more is left; the account's switch is not lifted, ask again`,
      () => {
        const holding = engine.state.accountSwitches.get(request.accountId)?.switch
        if (holding === undefined || accountSwitchAskedCount(engine, request.accountId) === askedBefore) return null
        const detail = `the switch of account ${request.accountId} was asked while its RESUME ended the work held; not lifted, ask again`
        return { kind: 'refused', reason: holding === 'halted' ? 'ACCOUNT_HALTED' : 'ACCOUNT_CANCEL_ONLY', detail }
      },
    )
  }
  const decided = submit()
  noteAccountSwitchAsked(engine, request.accountId)
  const answer = await decided
  let lsn = lastLsnOf(answer)
  if (answer.decision.reply.kind === 'refused') return { reply: answer.decision.reply, lsn }
  const holding = (): boolean => engine.state.accountSwitches.get(request.accountId)?.switch === target
  lsn = await askRemainingParts(submit, lsn, () => holding() && switchWorkLeft(engine.state, request.accountId))
  return { reply: answer.decision.reply, lsn }
}

/** Whether an account's RESUME part is its last: it lifts the account's switch. */
function isLift(committed: Committed): boolean {
  return committed.decision.events.some((event) => event.type === 'account.switch_changed' && event.switch === 'normal')
}

/**
 * Whether a gateway RESUME's part is its last: it lifts the gateway's switch. The accounts' own switches are lifted in
 * parts too (kernel account-switch.ts liftAccountSwitches, at most ordersMax per part), before the gateway's or, that
 * one not engaged, alone: then the part that finds nothing left to lift (writing nothing) is the last.
 */
function isGatewayLift(committed: Committed): boolean {
  return committed.decision.events.some((event) => event.type === 'switch.changed')
}

/**
 * RESUME: each part ends what is left held or lifts the accounts' own switches, the last lifts the switch (its switch.changed). A switch engaged or asked
 * between the parts (HALT after CANCEL_ONLY, the same HALT again, an auto-stop's trip) is not lifted by them: asked
 * after this RESUME, it stands.
 */
async function liftInParts(engine: Engine, submit: () => Promise<Committed>): Promise<PartsDecided> {
  const lifting = engine.state.tradingSwitch
  const askedBefore = switchesAsked.get(engine) ?? 0
  const accountsAskedBefore = accountSwitchesAsked.get(engine) ?? 0
  return decideUntilLast(
    submit,
    isGatewayLift,
    (decisions) => `RESUME ended held work in ${decisions} decisions and more is left; the switch is not lifted, ask again`,
    () => {
      if ((accountSwitchesAsked.get(engine) ?? 0) !== accountsAskedBefore) {
        const halted = [...engine.state.accountSwitches.values()].some((held) => held.switch === 'halted')
        const detail = "an account's own switch was asked while RESUME ended the work held; nothing more lifted, ask again"
        return { kind: 'refused', reason: halted ? 'ACCOUNT_HALTED' : 'ACCOUNT_CANCEL_ONLY', detail }
      }
      const holding = engine.state.tradingSwitch
      if (holding === 'normal' || (holding === lifting && (switchesAsked.get(engine) ?? 0) === askedBefore)) return null
      const reason = holding === 'halted' ? 'KILL_SWITCH_HALT' : 'KILL_SWITCH_CANCEL_ONLY'
      return { kind: 'refused', reason, detail: `the trading switch ${holding} was asked while RESUME ended the work it held; not lifted, ask again` }
    },
  )
}

/** The LSN of the last record a decision wrote (null: none). */
export function lastLsnOf(committed: Committed): number | null {
  return committed.lsns.length > 0 ? (committed.lsns[committed.lsns.length - 1] as number) : null
}
