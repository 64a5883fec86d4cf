/**
 * What must stay true of OCO lists (src/kernel/order-lists/), checked by the simulation:
 *
 * - Log (OcoWatch, following each durable command's events on a shadow of the log): a command whose events execute,
 *   cancel or end a leg of an open list not fired yet carries the list's `order_list.triggered` (the fill and the
 *   sibling's cancel are one durable batch: no crash can come between them); a list fires once; the kernel's OCO
 *   cancel of an order (reason OCO_SIBLING_*) is decided at most once, only for the sibling of the leg that fired its
 *   list, in that same command, or (both legs executed) for the leg that fired it by executing, in the command that
 *   fills its sibling; a command that leaves a guarded leg of a fired list (its sibling, and the leg that
 *   fired it unless by executing; revived-legs.ts) not ended with no cancel asked — venue news brought it back —
 *   carries its cancel (OCO_LEG_REVIVED), and that cancel is only for such a leg; an order is canceled by its list at
 *   most once in all; and after that nothing sends, re-sends or amends it.
 * - State, after every step (checkOrderListState): a list not fired has both legs live, unfilled and with no cancel
 *   asked; a fired list's guarded legs are ended or being canceled, open and ended lists alike; an ended list not
 *   fired has both legs ended; the derived leg indexes and open count agree with the lists.
 * - After convergence (checkOrderListsSettled): a fired list's guarded legs have ended (revived ones included).
 */

import type { DomainEvent } from '../../src/domain/events/index.ts'
import { siblingOf, type OrderList } from '../../src/domain/order-lists.ts'
import type { Order } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { applyInPlace, initialState, type KernelState } from '../../src/kernel/index.ts'
import { domainEventOf, type Engine } from '../../src/runtime/index.ts'
import type { Violation } from './invariants.ts'

const INVARIANT = 'oco-lists'
const AFTER_OCO_CANCEL_FORBIDDEN = new Set(['order.send_requested', 'order.resend_requested', 'order.amend_requested', 'order.amend_send_requested'])

export class OcoWatch {
  private shadow: KernelState = initialState()
  private unsubscribe: (() => void) | null = null
  /** Leg → its list, never forgotten (the shadow's index drops a list's legs when it ends). */
  private readonly listOfLeg = new Map<string, string>()
  /** Orders the kernel canceled for their list (reason OCO_SIBLING_* or OCO_LEG_REVIVED). */
  private readonly ocoCanceled = new Set<string>()
  private readonly found: Violation[] = []
  /** Lists fired and sibling cancels decided while watched (a restart's fold of the log counts nothing again). */
  readonly stats = { triggered: 0, siblingCancels: 0, revivedCancels: 0 }

  attach(engine: Engine): void {
    this.detach()
    this.shadow = initialState()
    this.listOfLeg.clear()
    this.ocoCanceled.clear()
    const scannedTo = engine.wal.lastLsn
    const events: { event: DomainEvent; lsn: number }[] = []
    for (const frame of engine.wal.read(engine.wal.firstLsn, { toLsn: scannedTo })) {
      const event = domainEventOf(frame)
      if (event !== null) events.push({ event, lsn: frame.lsn })
    }
    // Checked already as they became durable: folded here, not judged again (their command boundaries are gone).
    this.command(events, false)
    this.unsubscribe = engine.onDurable((applied) => this.command(applied.filter(({ lsn }) => lsn > scannedTo), true))
  }

  detach(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  drain(): Violation[] {
    return this.found.splice(0)
  }

  private violation(message: string): void {
    this.found.push({ invariant: INVARIANT, message })
  }

  /** One durable command's events (or, with `judge` false, the log so far). */
  private command(events: readonly { event: DomainEvent; lsn: number }[], judge: boolean): void {
    const mustFire = new Map<string, string>()
    const firedHere = new Set<string>()
    /** Legs with a fill in the command: the sibling of a leg that fired its list by executing may be canceled for one. */
    const filledHere = new Set<string>()
    /** Legs of fired lists the command touched: each must end it ended or with a cancel asked. */
    const touchedLegs = new Map<string, string>()
    for (const { event, lsn } of events) {
      const orderId = 'orderId' in event && typeof event.orderId === 'string' ? event.orderId : null
      const openListId = orderId === null ? undefined : this.shadow.orderLists.byLeg.get(orderId)
      const openList = openListId === undefined ? undefined : this.shadow.orderLists.lists.get(openListId)
      applyInPlace(this.shadow, event, { lsn })
      if (event.type === 'kernel.configured' && this.shadow.config !== null) {
        // Retirement off in the shadow (no count, no cap): a leg's history stays readable.
        this.shadow.config = { ...this.shadow.config, params: { ...this.shadow.config.params, terminalOrdersKeptMax: Number.MAX_SAFE_INTEGER, terminalOrdersHeldMax: Number.MAX_SAFE_INTEGER } }
      }
      if (event.type === 'order_list.accepted') for (const leg of event.legs) this.listOfLeg.set(leg, event.listId)
      if (event.type === 'order_list.triggered') {
        if (judge) this.stats.triggered++
        firedHere.add(event.listId)
      }
      if (!judge || orderId === null) {
        if (orderId !== null && isOcoCancel(event)) this.ocoCanceled.add(orderId)
        continue
      }
      if (event.type === 'order.fill') filledHere.add(orderId)
      const order = this.shadow.orders.get(orderId)
      if (openList !== undefined && openList.triggered === null && order !== undefined && fires(event, order)) mustFire.set(openList.listId, `${event.type} of ${orderId}`)
      if (this.listOfLeg.has(orderId)) touchedLegs.set(orderId, `${event.type} at LSN ${lsn}`)
      if (isRevivedCancel(event)) this.judgeRevivedCancel(orderId)
      else if (isOcoCancel(event)) this.judgeOcoCancel(orderId, { firedHere, filledHere })
      else if (this.ocoCanceled.has(orderId) && AFTER_OCO_CANCEL_FORBIDDEN.has(event.type)) this.violation(`${event.type} of ${orderId} at LSN ${lsn}, after its list canceled it`)
    }
    for (const [listId, cause] of mustFire) {
      if (!firedHere.has(listId)) this.violation(`${cause} left list ${listId} open and not fired in the same command (no order_list.triggered beside it)`)
    }
    for (const [orderId, last] of touchedLegs) {
      const list = this.listOf(orderId)
      const order = this.shadow.orders.get(orderId)
      if (list === undefined || list.triggered === null || order === undefined || !guardedLeg(list, orderId) || !liveUncanceled(order)) continue
      this.violation(`command ending with ${last} left ${orderId}, a leg of list ${list.listId} fired by ${list.triggered.legOrderId} (${list.triggered.cause}), ${order.status} with no cancel asked`)
    }
  }

  private listOf(orderId: string): OrderList | undefined {
    const listId = this.listOfLeg.get(orderId)
    return listId === undefined ? undefined : this.shadow.orderLists.lists.get(listId)
  }

  /** A leg's cancel for coming back live (OCO_LEG_REVIVED): only of a guarded leg of a fired list, and once. */
  private judgeRevivedCancel(orderId: string): void {
    if (this.ocoCanceled.has(orderId)) {
      this.violation(`order ${orderId} canceled by its list twice (the second as revived)`)
      return
    }
    this.ocoCanceled.add(orderId)
    this.stats.revivedCancels++
    const list = this.listOf(orderId)
    if (list === undefined || list.triggered === null) this.violation(`order ${orderId} canceled as a revived leg, but its list ${list?.listId ?? '(none)'} has not fired`)
    else if (!guardedLeg(list, orderId)) this.violation(`order ${orderId} canceled as a revived leg of list ${list.listId}, but it fired the list by executing`)
  }

  private judgeOcoCancel(orderId: string, here: { firedHere: Set<string>; filledHere: Set<string> }): void {
    if (this.ocoCanceled.has(orderId)) {
      // order.unknown + cancel_requested, or a local cancel: one decision gives one of them per order.
      this.violation(`order ${orderId} canceled by its list twice`)
      return
    }
    this.ocoCanceled.add(orderId)
    this.stats.siblingCancels++
    const listId = this.listOfLeg.get(orderId)
    const list = listId === undefined ? undefined : this.shadow.orderLists.lists.get(listId)
    if (listId === undefined || list === undefined || list.triggered === null) {
      this.violation(`order ${orderId} canceled with an OCO reason but its list ${listId ?? '(none)'} has not fired`)
      return
    }
    // Both legs executed: the leg that fired the list by executing is canceled in the command that fills its sibling.
    const sibling = siblingOf(list, orderId)
    if (orderId === list.triggered.legOrderId && list.triggered.cause === 'fill' && sibling !== null && here.filledHere.has(sibling)) return
    if (!here.firedHere.has(listId)) this.violation(`order ${orderId} canceled for list ${listId} in a command that did not fire the list`)
    if (siblingOf(list, list.triggered.legOrderId) !== orderId) this.violation(`order ${orderId} canceled for list ${listId}, but ${list.triggered.legOrderId} fired it and ${orderId} is not its sibling`)
  }
}

function isOcoCancel(event: DomainEvent): boolean {
  return (event.type === 'order.cancel_requested' || event.type === 'order.canceled') && event.reason.startsWith('OCO_SIBLING_')
}

function isRevivedCancel(event: DomainEvent): boolean {
  return (event.type === 'order.cancel_requested' || event.type === 'order.canceled') && event.reason === 'OCO_LEG_REVIVED'
}

/** A fired list's leg that must not work on: the sibling of the leg that fired it, and that leg unless it executed. */
function guardedLeg(list: OrderList, orderId: string): boolean {
  const trigger = list.triggered
  if (trigger === null) return false
  return orderId === trigger.legOrderId ? trigger.cause !== 'fill' : siblingOf(list, trigger.legOrderId) === orderId
}

/** Not ended, and no cancel asked for it. */
function liveUncanceled(order: Order): boolean {
  return !isTerminal(order.status) && !order.cancelWanted && order.status !== 'CancelRequested' && order.status !== 'CancelPending'
}

/** Whether an event on a leg (the order as it left it) fires its list: a fill, a cancel, or an end. */
function fires(event: DomainEvent, order: Order): boolean {
  if (event.type === 'order.accepted' || event.type === 'order.rejected') return false
  return event.type === 'order.fill' || event.type === 'order.cancel_requested' || event.type === 'order.canceled' || isTerminal(order.status)
}

/** After every step: the lists as the live state holds them, against their legs (`state` has retired orders put back). */
export function checkOrderListState(state: KernelState): Violation[] {
  const violations: Violation[] = []
  const { lists, byLeg, endedByLeg, open } = state.orderLists
  let openCount = 0
  for (const list of lists.values()) {
    const legs = list.legs.map((orderId) => ({ orderId, order: state.orders.get(orderId) }))
    const index = list.endedAtMs === null ? byLeg : endedByLeg
    if (list.endedAtMs === null) openCount++
    for (const leg of list.legs) if (index.get(leg) !== list.listId) violations.push({ invariant: INVARIANT, message: `${list.endedAtMs === null ? 'open' : 'ended'} list ${list.listId}: leg ${leg} not indexed to it` })
    if (list.triggered === null) {
      for (const { orderId, order } of legs) {
        if (list.endedAtMs !== null) {
          if (order !== undefined && !isTerminal(order.status)) violations.push({ invariant: INVARIANT, message: `list ${list.listId} ended, not fired, with leg ${orderId} ${order.status}` })
        } else if (order === undefined || isTerminal(order.status) || order.cumQty > 0n || order.cancelWanted) {
          violations.push({ invariant: INVARIANT, message: `list ${list.listId} not fired, yet leg ${orderId} is ${order === undefined ? 'gone' : `${order.status} filled ${order.cumQty} cancelWanted ${order.cancelWanted}`}` })
        }
      }
      continue
    }
    for (const { orderId, order } of legs) {
      if (order === undefined || !guardedLeg(list, orderId) || !liveUncanceled(order)) continue
      violations.push({ invariant: INVARIANT, message: `list ${list.listId} (${list.endedAtMs === null ? 'open' : 'ended'}) fired by ${list.triggered.legOrderId} (${list.triggered.cause}), yet its leg ${orderId} is ${order.status} with no cancel asked` })
    }
  }
  if (openCount !== open) violations.push({ invariant: INVARIANT, message: `${open} lists counted open, ${openCount} are` })
  if (byLeg.size !== 2 * openCount) violations.push({ invariant: INVARIANT, message: `${byLeg.size} legs indexed for ${openCount} open lists` })
  const ended = lists.size - openCount
  if (endedByLeg.size !== 2 * ended) violations.push({ invariant: INVARIANT, message: `${endedByLeg.size} legs indexed for ${ended} ended lists` })
  return violations
}

/**
 * Once converged: every fired list's guarded legs have ended — the sibling of the leg that fired it, and that leg
 * unless it executed, revived ones included. Returns the violations and how many lists had both legs execute.
 */
export function checkOrderListsSettled(state: KernelState): { violations: Violation[]; bothExecuted: number } {
  const violations: Violation[] = []
  let bothExecuted = 0
  for (const list of state.orderLists.lists.values()) {
    const legs = list.legs.map((orderId) => state.orders.get(orderId))
    if (legs.every((order) => order !== undefined && order.cumQty > 0n)) bothExecuted++
    if (list.triggered === null) continue
    for (const [index, order] of legs.entries()) {
      const orderId = list.legs[index] as string
      if (order === undefined || !guardedLeg(list, orderId) || isTerminal(order.status)) continue
      violations.push({ invariant: INVARIANT, message: `list ${list.listId} fired by ${list.triggered.legOrderId} (${list.triggered.cause}); after convergence its leg ${orderId} is still ${order.status}` })
    }
  }
  return { violations, bothExecuted }
}
