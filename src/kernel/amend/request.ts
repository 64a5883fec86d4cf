/**
 * An amend (replace) request: who may ask, which orders may be amended, and the guards in the §5 order. Success is
 * `order.amend_requested` (the amend waits in Lane2 and the order holds the larger worst case); a guard failure is
 * `order.amend_rejected` with the reason, the guard and a decision record. Requests that name no amendable order are
 * refused without a record, like cancels: there is no order change to explain.
 *
 * One amend at a time per order: while one is waiting or at the venue, repeating it is answered as a duplicate and a
 * different one is refused (AMEND_PENDING, retryable). A repeat is compared as it would be sent (rounded to the tick
 * and lot, like the pending amend was), so the retry of an off-tick or off-lot amend is the duplicate it is. An amend
 * to the values the order already has changes nothing.
 */

import { traceMemberOf } from '../../domain/trace-context.ts'
import { assert } from '../../domain/assert.ts'
import type { GuardRecord } from '../../domain/guards.ts'
import { decisionRecord } from '../intake/decision-record.ts'
import { instrumentKey } from '../../domain/instruments.ts'
import { amendClientOrderId, type Order } from '../../domain/orders.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
import { DONE_REPLY, type AmendCommand, type Decision } from '../commands.ts'
import { emit, emitterFor } from '../emit.ts'
import { dataHealthGuard } from '../intake/guard-data-health.ts'
import { laneGuard } from '../intake/guard-lane.ts'
import { modeGuard } from '../intake/guard-mode.ts'
import { record } from '../intake/guard-result.ts'
import { mayActFor } from '../permissions.ts'
import type { KernelState } from '../state.ts'
import { ttlPassed } from '../ttl.ts'
import { amendCapabilityGuard, amendPolicyGuard, amendReservationGuard, amendSyntaxGuard, sentTarget } from './guards.ts'

export function decideAmend(state: KernelState, command: AmendCommand): Decision {
  const order = state.orders.get(command.orderId)
  if (order === undefined) return refused('ORDER_NOT_FOUND', command.orderId)
  if (!mayActFor(command.principal, order.accountId)) return refused('ACCOUNT_NOT_PERMITTED', order.accountId)
  const blocker = notAmendable(order)
  if (blocker !== null) return refused('ORDER_NOT_AMENDABLE', blocker)
  const pending = order.amend
  if (pending !== null && pending.stage !== 'failed') {
    const asked = askedAsSent(state, order, command)
    const same = asked.qty === pending.qty && asked.price === pending.price
    if (same) return { events: [], reply: { kind: 'amend_accepted', orderId: order.orderId, amendId: pending.amendId, duplicate: true } }
    return refused('AMEND_PENDING', `amend ${pending.amendId} is ${pending.stage}`)
  }
  // A new amend past the order's time-to-live is refused: the order's life has ended, its cancel is (or is about to be)
  // asked (ttl.ts), and nothing more is sent for it (send.ts). A repeat of one accepted before is answered above.
  if (ttlPassed(order, command.nowMs)) return refused('ORDER_NOT_AMENDABLE', `its time-to-live ended at ${order.expiresAtMs}`)
  const nothingAsked = command.qty === null && command.price === null
  if (!nothingAsked && unchanged(order, command.qty, command.price)) return { events: [], reply: DONE_REPLY }
  return runGuards(state, command, order)
}

/** Why this order cannot be amended, or null. Only a resting limit order the venue has acknowledged can be. */
export function notAmendable(order: Order): string | null {
  if (order.status !== 'AckedOpen' && order.status !== 'Partial') return `order is ${order.status}`
  if (order.cancelWanted) return 'a cancel of the order is wanted'
  if (order.type !== 'limit' || order.tif === 'IOC' || order.tif === 'FOK') return 'only resting limit orders can be amended'
  if (order.flattenId !== null) return 'flatten closes are not amended'
  return null
}

/** The amend's values as they would be sent; unrounded if the instrument is gone (the guards would refuse it then). */
function askedAsSent(state: KernelState, order: Order, command: AmendCommand): { qty: bigint; price: bigint | null } {
  const instrument = state.instruments.get(instrumentKey(order.venue, order.symbol))
  const qty = command.qty ?? order.qty
  const price = command.price ?? order.price
  if (instrument === undefined || price === null) return { qty, price }
  return sentTarget(order, { qty, price }, instrument)
}

function unchanged(order: Order, qty: bigint | null, price: bigint | null): boolean {
  return (qty ?? order.qty) === order.qty && (price ?? order.price) === order.price
}

function runGuards(state: KernelState, command: AmendCommand, order: Order): Decision {
  const records: GuardRecord[] = []
  const fail = (reason: ReasonCode): Decision => reject(command, records, reason)
  const syntax = record(records, 'syntax', amendSyntaxGuard(order, command))
  if (!syntax.pass) return fail(syntax.reason)
  const target = syntax.value
  const policy = record(records, 'policy', amendPolicyGuard(state, { principal: command.principal, order, target, nowMs: command.nowMs }))
  if (!policy.pass) return fail(policy.reason)
  const { instrument } = policy.value
  const params = state.config?.params
  assert(params !== undefined, 'a policy can only exist once the kernel is configured')
  const mode = record(records, 'mode', modeGuard(state, { principal: command.principal, policy: policy.value.policy, live: command.live, configDigest: command.configDigest }))
  if (!mode.pass) return fail(mode.reason)
  // A new price is band-checked; so is the standing price when the amend adds quantity at it: more at a price the
  // band now refuses is what a new order at that price would be, and a place would fail it. Only a qty cut skips it.
  // Both as they will be sent: a sell's new price rounds up to the tick, and that is the price the band must hold.
  const sent = sentTarget(order, target, instrument)
  const bandPrice = command.price !== null || sent.qty > order.qty ? sent.price : null
  // The book rules face what the band faces: a qty cut takes nothing more from the book.
  const book = bandPrice === null ? null : { side: order.side, orderType: order.type, price: sent.price, qty: sent.qty, reduceOnly: order.reduceOnly }
  const data = record(records, 'data_health', dataHealthGuard({ price: bandPrice, order: book, instrument, params, market: command.market, nowMs: command.nowMs }))
  if (!data.pass) return fail(data.reason)
  const reservation = record(records, 'reservation', amendReservationGuard(state, { order, sent, instrument, params }))
  if (!reservation.pass) return fail(reservation.reason)
  const capability = record(records, 'capability', amendCapabilityGuard({ order, target, instrument }))
  if (!capability.pass) return fail(capability.reason)
  // Rounding may bring the amend back to what the order already is: then there is nothing to send.
  if (unchanged(order, capability.value.qty, capability.value.price)) return { events: [], reply: DONE_REPLY }
  const lane = record(records, 'lane', laneGuard(state, { lane: 2, accountId: order.accountId, params }))
  if (!lane.pass) return fail(lane.reason)
  const amendId = order.amendCount + 1
  const emitter = emitterFor(order)
  emit(emitter, {
    type: 'order.amend_requested',
    atMs: command.nowMs,
    orderId: order.orderId,
    principalId: command.principal.id,
    amendId,
    amendClientOrderId: amendClientOrderId(order.orderId, amendId),
    qty: capability.value.qty,
    price: capability.value.price,
    reservationTotal: reservation.value,
    decision: decisionRecord(command, records),
    ...traceMemberOf(command),
  })
  return { events: emitter.events, reply: { kind: 'amend_accepted', orderId: order.orderId, amendId, duplicate: false } }
}

function reject(command: AmendCommand, records: GuardRecord[], reason: ReasonCode): Decision {
  const guard = records.at(-1)?.guard ?? 'syntax'
  const event = {
    type: 'order.amend_rejected' as const,
    atMs: command.nowMs,
    orderId: command.orderId,
    principalId: command.principal.id,
    qty: command.qty,
    price: command.price,
    reason,
    guard,
    decision: decisionRecord(command, records),
    ...traceMemberOf(command),
  }
  return { events: [event], reply: { kind: 'rejected', orderId: command.orderId, reason, guard, duplicate: false } }
}

function refused(reason: ReasonCode, detail: string): Decision {
  return { events: [], reply: { kind: 'refused', reason, detail } }
}
