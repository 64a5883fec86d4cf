/**
 * What must stay true of OCO lists (src/kernel/order-lists/), checked by the simulation:
 *
 * - Log (OcoWatch, following each durable command's events on a shadow of the log): a command whose events execute,
 *   cancel or end a leg of an open list not fired yet carries the list's `order_list.triggered` (the fill and the
 *   sibling's cancel are one durable batch: no crash can come between them); a list fires once; the kernel's OCO
 *   cancel of an order (reason OCO_SIBLING_*) is decided at most once, only for the sibling of the leg that fired its
 *   list, in that same command; and after it nothing sends, re-sends or amends the sibling.
 * - State, after every step (checkOrderListState): a list not fired has both legs live, unfilled and with no cancel
 *   asked; a fired list's sibling is ended or being canceled; an ended list has both legs ended; the derived leg index
 *   and open count agree with the lists.
 * - After convergence (checkOrderListsSettled): a fired list's sibling has ended.
 */

import type { DomainEvent } from '../../src/domain/events/index.ts'
import { siblingOf } from '../../src/domain/order-lists.ts'
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
  /** Orders the kernel canceled for their list (reason OCO_SIBLING_*). */
  private readonly ocoCanceled = new Set<string>()
  private readonly found: Violation[] = []
  /** Lists fired and sibling cancels decided while watched (a restart's fold of the log counts nothing again). */
  readonly stats = { triggered: 0, siblingCancels: 0 }

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
    for (const { event, lsn } of events) {
      const orderId = 'orderId' in event && typeof event.orderId === 'string' ? event.orderId : null
      const openListId = orderId === null ? undefined : this.shadow.orderLists.byLeg.get(orderId)
      const openList = openListId === undefined ? undefined : this.shadow.orderLists.lists.get(openListId)
      applyInPlace(this.shadow, event, { lsn })
      if (event.type === 'kernel.configured' && this.shadow.config !== null) {
        // Retirement off in the shadow: a leg's history stays readable.
        this.shadow.config = { ...this.shadow.config, params: { ...this.shadow.config.params, terminalOrdersKeptMax: Number.MAX_SAFE_INTEGER } }
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
      const order = this.shadow.orders.get(orderId)
      if (openList !== undefined && openList.triggered === null && order !== undefined && fires(event, order)) mustFire.set(openList.listId, `${event.type} of ${orderId}`)
      if (isOcoCancel(event)) this.judgeOcoCancel(orderId, firedHere)
      else if (this.ocoCanceled.has(orderId) && AFTER_OCO_CANCEL_FORBIDDEN.has(event.type)) this.violation(`${event.type} of ${orderId} at LSN ${lsn}, after its list canceled it`)
    }
    for (const [listId, cause] of mustFire) {
      if (!firedHere.has(listId)) this.violation(`${cause} left list ${listId} open and not fired in the same command (no order_list.triggered beside it)`)
    }
  }

  private judgeOcoCancel(orderId: string, firedHere: Set<string>): void {
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
    if (!firedHere.has(listId)) this.violation(`order ${orderId} canceled for list ${listId} in a command that did not fire the list`)
    if (siblingOf(list, list.triggered.legOrderId) !== orderId) this.violation(`order ${orderId} canceled for list ${listId}, but ${list.triggered.legOrderId} fired it and ${orderId} is not its sibling`)
  }
}

function isOcoCancel(event: DomainEvent): boolean {
  return (event.type === 'order.cancel_requested' || event.type === 'order.canceled') && event.reason.startsWith('OCO_SIBLING_')
}

/** Whether an event on a leg (the order as it left it) fires its list: a fill, a cancel, or an end. */
function fires(event: DomainEvent, order: Order): boolean {
  if (event.type === 'order.accepted' || event.type === 'order.rejected') return false
  return event.type === 'order.fill' || event.type === 'order.cancel_requested' || event.type === 'order.canceled' || isTerminal(order.status)
}

/** After every step: the lists as the live state holds them, against their legs (`state` has retired orders put back). */
export function checkOrderListState(state: KernelState): Violation[] {
  const violations: Violation[] = []
  const { lists, byLeg, open } = state.orderLists
  let openCount = 0
  for (const list of lists.values()) {
    const legs = list.legs.map((orderId) => ({ orderId, order: state.orders.get(orderId) }))
    if (list.endedAtMs === null) {
      openCount++
      for (const leg of list.legs) if (byLeg.get(leg) !== list.listId) violations.push({ invariant: INVARIANT, message: `open list ${list.listId}: leg ${leg} not indexed to it` })
    } else {
      for (const { orderId, order } of legs) if (order !== undefined && !isTerminal(order.status)) violations.push({ invariant: INVARIANT, message: `list ${list.listId} ended with leg ${orderId} ${order.status}` })
    }
    if (list.triggered === null) {
      for (const { orderId, order } of legs) {
        if (order === undefined || isTerminal(order.status) || order.cumQty > 0n || order.cancelWanted) {
          violations.push({ invariant: INVARIANT, message: `list ${list.listId} not fired, yet leg ${orderId} is ${order === undefined ? 'gone' : `${order.status} filled ${order.cumQty} cancelWanted ${order.cancelWanted}`}` })
        }
      }
      continue
    }
    const siblingId = siblingOf(list, list.triggered.legOrderId)
    const sibling = siblingId === null ? undefined : state.orders.get(siblingId)
    if (sibling !== undefined && !isTerminal(sibling.status) && !sibling.cancelWanted && sibling.status !== 'CancelRequested' && sibling.status !== 'CancelPending') {
      violations.push({ invariant: INVARIANT, message: `list ${list.listId} fired by ${list.triggered.legOrderId} (${list.triggered.cause}), yet its sibling ${siblingId} is ${sibling.status} with no cancel asked` })
    }
  }
  if (openCount !== open) violations.push({ invariant: INVARIANT, message: `${open} lists counted open, ${openCount} are` })
  if (byLeg.size !== 2 * openCount) violations.push({ invariant: INVARIANT, message: `${byLeg.size} legs indexed for ${openCount} open lists` })
  return violations
}

/** Once converged: every fired list's sibling has ended. Returns the violations and how many lists had both legs execute. */
export function checkOrderListsSettled(state: KernelState): { violations: Violation[]; bothExecuted: number } {
  const violations: Violation[] = []
  let bothExecuted = 0
  for (const list of state.orderLists.lists.values()) {
    const legs = list.legs.map((orderId) => state.orders.get(orderId))
    if (legs.every((order) => order !== undefined && order.cumQty > 0n)) bothExecuted++
    if (list.triggered === null) continue
    const siblingId = siblingOf(list, list.triggered.legOrderId)
    const sibling = siblingId === null ? undefined : state.orders.get(siblingId)
    if (sibling !== undefined && !isTerminal(sibling.status)) {
      violations.push({ invariant: INVARIANT, message: `list ${list.listId} fired by ${list.triggered.legOrderId} (${list.triggered.cause}); after convergence its sibling ${siblingId} is still ${sibling.status}` })
    }
  }
  return { violations, bothExecuted }
}
