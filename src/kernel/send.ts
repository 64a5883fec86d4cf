/**
 * The executor's send decision: the I-100 gate runs for every send, in every mode, and its verdict is recorded.
 * If the gate allows, `order.send_requested` (or `order.cancel_send_requested`) is emitted: the runtime appends it
 * durably and only then calls the adapter (outbox, §5 step 8). The venue sees the deterministic client order id.
 */

import { policyValidAt } from '../domain/accounts.ts'
import { instrumentKey } from '../domain/instruments.ts'
import type { GateInput } from '../domain/gate.ts'
import { cancelClientOrderId, type Order } from '../domain/orders.ts'
import type { Decision, SendCommand } from './commands.ts'
import { emit, emitterFor } from './emit.ts'
import { evaluateGate } from './gate.ts'
import type { KernelState } from './state.ts'

export function decideSend(state: KernelState, command: SendCommand): Decision {
  const order = state.orders.get(command.orderId)
  if (order === undefined) return { events: [], reply: { kind: 'refused', reason: 'ORDER_NOT_FOUND', detail: command.orderId } }
  const expected = command.action === 'place' ? 'Enqueued' : 'CancelRequested'
  if (order.status !== expected) {
    return { events: [], reply: { kind: 'refused', reason: 'TRANSITION_REFUSED', detail: `${command.action} needs ${expected}, order is ${order.status}` } }
  }
  const slot = instrumentKey(order.venue, order.symbol)
  if (state.inFlight.has(slot)) {
    return { events: [], reply: { kind: 'refused', reason: 'TRANSITION_REFUSED', detail: `a call is already in flight for ${slot}` } }
  }
  const held = switchHolds(state, order, command.action)
  if (held !== null) return { events: [], reply: { kind: 'refused', reason: held, detail: `trading switch is ${state.tradingSwitch}` } }
  const gate = evaluateGate(gateInput(state, order, command))
  const emitter = emitterFor(order)
  if (!gate.sendAllowed) {
    const place = command.action === 'place'
    emit(emitter, {
      type: 'order.send_blocked',
      atMs: command.nowMs,
      orderId: order.orderId,
      action: command.action,
      reason: state.mode === 'shadow' ? 'SHADOW_NOT_SENT' : 'GATE_BLOCKED',
      gate,
      // A blocked place is final (the order is rejected); a blocked cancel is retried, never dropped.
      retryAtMs: place ? command.nowMs : command.nowMs + (state.config?.params.sendRetryMs ?? 1_000),
    })
  } else if (command.action === 'place') {
    const attempt = order.sendAttempts + 1
    emit(emitter, { type: 'order.send_requested', atMs: command.nowMs, orderId: order.orderId, attempt, venueClientOrderId: order.venueClientOrderId, gate })
  } else {
    const attempt = order.cancelAttempts + 1
    const cancelId = cancelClientOrderId(order.orderId, attempt)
    emit(emitter, { type: 'order.cancel_send_requested', atMs: command.nowMs, orderId: order.orderId, attempt, cancelClientOrderId: cancelId, gate })
  }
  return { events: emitter.events, reply: { kind: 'done' } }
}

/** HALT holds every new order except Lane0 closes; CANCEL_ONLY holds every new order. Cancels always go. */
export function switchHolds(state: KernelState, order: Order, action: 'place' | 'cancel'): 'KILL_SWITCH_HALT' | 'KILL_SWITCH_CANCEL_ONLY' | null {
  if (action === 'cancel') return null
  if (state.tradingSwitch === 'cancel_only') return 'KILL_SWITCH_CANCEL_ONLY'
  if (state.tradingSwitch === 'halted' && order.lane !== 0) return 'KILL_SWITCH_HALT'
  return null
}

function gateInput(state: KernelState, order: Order, command: SendCommand): GateInput {
  const policy = state.policies.get(order.accountId)
  const key = instrumentKey(order.venue, order.symbol)
  const policyAllows =
    policy !== undefined &&
    policyValidAt(policy, command.nowMs) &&
    policy.instruments.includes(key) &&
    (state.mode !== 'live' || policy.liveAllowed)
  const reserved = state.accounts.get(order.accountId)?.reserved.get(order.reservation.asset) ?? 0n
  const reservationHeld =
    order.reservation.total > 0n && order.reservation.remaining === order.reservation.total && reserved >= order.reservation.remaining
  return {
    ...command.facts,
    action: command.action,
    mode: state.mode,
    policyAllows,
    // Every order in the queue passed all intake guards when accepted (flatten closes are operator-issued risk
    // reducers and bypass intake by design); an order refused by any guard never exists.
    guardsPassed: true,
    reservationHeld,
  }
}
