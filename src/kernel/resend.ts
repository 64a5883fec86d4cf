/**
 * Resend: an operator's or a start's request to send again an order reconciliation proved the venue never received
 * (Failed, not at venue; reconcile.ts `resendable`). The order keeps its id and venue client order id, so the venue
 * would recognise a second copy; and it is Failed, which is terminal, so it holds nothing — the resend reserves it
 * once again, never twice.
 *
 * It is a new send of the order, possibly long after intake passed it, so it faces again the checks whose facts may
 * have changed since, on the order as recorded (already rounded): the trading switch (as the send path applies it),
 * the account's policy (present, valid now, instrument listed, market orders enabled, max notional, open orders),
 * data health and the price band at the current reference price, and the reservation (a market order's at the band
 * edge of the current price). Flatten closes skip policy and band, as they skip intake (flatten.ts). The mode guard's
 * live prerequisites are the I-100 gate's at the send itself. Lane admission is not re-run: a resend is not new
 * client load, and a start resends before intake opens. A refusal writes nothing: the order stays Failed.
 */

import { policyValidAt } from '../domain/accounts.ts'
import { mulUnits, type Units } from '../domain/decimal.ts'
import { instrumentKey, type Instrument } from '../domain/instruments.ts'
import type { ReasonCode } from '../domain/reasons.ts'
import type { Order } from '../domain/orders.ts'
import type { Decision, ResendCommand } from './commands.ts'
import { dataHealthGuard } from './intake/guard-data-health.ts'
import { marketWorstPrice } from './intake/sent-order.ts'
import { mayActFor } from './permissions.ts'
import { resendable } from './reconcile.ts'
import { reservationFor } from './reservations.ts'
import { switchHolds } from './send.ts'
import { availableBalance, type KernelState } from './state.ts'

export function decideResend(state: KernelState, command: ResendCommand): Decision {
  const order = state.orders.get(command.orderId)
  if (order === undefined) return refused('ORDER_NOT_FOUND', command.orderId)
  if (!mayActFor(command.principal, order.accountId)) return refused('ACCOUNT_NOT_PERMITTED', order.accountId)
  if (!resendable(order)) return refused('ORDER_NOT_RESENDABLE', `order is ${order.status}`)
  const held = switchHolds(state, order, 'place')
  if (held !== null) return refused(held, `trading switch is ${state.tradingSwitch}`)
  const instrument = state.instruments.get(instrumentKey(order.venue, order.symbol))
  const params = state.config?.params
  if (instrument === undefined || params === undefined) return refused('INSTRUMENT_UNKNOWN', instrumentKey(order.venue, order.symbol))
  const data = dataHealthGuard({ price: order.flattenId === null ? order.price : null, instrument, params, market: command.market, nowMs: command.nowMs })
  if (!data.pass) return refused(data.reason, 'the reference price refuses the order now')
  // The order goes out as recorded (rounded at intake, to the tick of its time): a limit is priced as it is, never
  // rounded again (to a tick changed since, a buy's would go down and the reservation fall short of what it sends).
  const worstPrice = order.price ?? marketWorstPrice(data.value, instrument)
  if (order.flattenId === null) {
    const policyRefusal = policyRefuses(state, { order, instrument, worstPrice, nowMs: command.nowMs })
    if (policyRefusal !== null) return refused(policyRefusal, 'the account policy refuses the order now')
  }
  const quote = reservationFor({ side: order.side, qty: order.qty, worstPrice, takerFeeBps: params.takerFeeBps, baseAsset: instrument.baseAsset, quoteAsset: instrument.quoteAsset })
  if (availableBalance(state, order.accountId, quote.asset) < quote.amount) {
    return refused(order.side === 'buy' ? 'INSUFFICIENT_FUNDS' : 'INSUFFICIENT_POSITION', 'the resend cannot be reserved again')
  }
  const event = { type: 'order.resend_requested' as const, atMs: command.nowMs, orderId: order.orderId, principalId: command.principal.id, reservationAmount: quote.amount }
  return { events: [event], reply: { kind: 'done' } }
}

/** What the account's policy now says against sending the order, or null. The order is Failed: not among the open. */
function policyRefuses(state: KernelState, input: { order: Order; instrument: Instrument; worstPrice: Units; nowMs: number }): ReasonCode | null {
  const { order } = input
  const key = instrumentKey(order.venue, order.symbol)
  const policy = state.policies.get(order.accountId)
  if (policy === undefined) return 'POLICY_MISSING'
  if (!policyValidAt(policy, input.nowMs)) return 'POLICY_EXPIRED'
  if (!policy.instruments.includes(key)) return 'SYMBOL_NOT_ALLOWED'
  if (order.type === 'market' && !policy.marketOrderInstruments.includes(key)) return 'MARKET_ORDERS_DISABLED'
  if (mulUnits(order.qty, input.worstPrice, 'up') > policy.maxOrderNotional) return 'ORDER_NOTIONAL_LIMIT'
  if ((state.openOrders.get(order.accountId) ?? 0) >= policy.maxOpenOrders) return 'OPEN_ORDERS_LIMIT'
  return null
}

function refused(reason: ReasonCode, detail: string): Decision {
  return { events: [], reply: { kind: 'refused', reason, detail } }
}
