/**
 * Intake of a new order (§5 guards 1–7), with idempotency. The guards run in the fixed order and stop at the first
 * failure; every guard that ran is listed with its inputs in the decision record. The idempotency index is consulted
 * right after syntax (the key and account come from the body): a repeat with the same body returns the first answer
 * and emits nothing; a repeat with a different body is a conflict and emits nothing either — neither changes state,
 * and the conflict is the client's error to see, not a fact about any order.
 */

import { assert } from '../../domain/assert.ts'
import { canonicalJson, sha256Hex, sha256HexPrefix } from '../../domain/canonical-json.ts'
import type { EventOf } from '../../domain/events/index.ts'
import type { GuardRecord } from '../../domain/guards.ts'
import { decisionRecord } from './decision-record.ts'
import { checkedTraceparent, traceMemberOf } from '../../domain/trace-context.ts'
import { venueClientOrderId } from '../../domain/orders.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
import type { Decision, PlaceCommand } from '../commands.ts'
import { idempotencyIndexKey, type IdempotencyEntry, type KernelState } from '../state.ts'
import { keySpanSuffix } from '../key-window.ts'
import { record } from './guard-result.ts'
import { capabilityGuard } from './guard-capability.ts'
import { bookLimitsOff, dataHealthGuard } from './guard-data-health.ts'
import { laneGuard } from './guard-lane.ts'
import { modeGuard } from './guard-mode.ts'
import { policyGuard } from './guard-policy.ts'
import { reservationGuard } from './guard-reservation.ts'
import { marketProtectionPrice, plainMarketWorstPrice, sentPrice, sentQty } from './sent-order.ts'
import { syntaxGuard, type SyntaxValue } from './guard-syntax.ts'

/**
 * Order ids are derived from account and idempotency key, so they are stable across replays and retries. Under the key
 * window (src/kernel/key-window.ts) the number of the hour the decision falls in goes in too: a key is forgotten only
 * once that hour has ended (and its window passed), so a key taken again names a new order, never the one it named
 * before, while a retry of a refused order within the hour keeps its id (one that crosses into the next hour gets a
 * new id). A log configured without the window keeps the ids it had.
 */
export function orderIdFor(state: KernelState, accountId: string, idempotencyKey: string, nowMs: number): string {
  return sha256HexPrefix(`${accountId}\n${idempotencyKey}${keySpanSuffix(state, nowMs)}`, 10)
}

export function decidePlace(state: KernelState, command: PlaceCommand): Decision {
  const records: GuardRecord[] = []
  const syntax = record(records, 'syntax', syntaxGuard(command.body, command.idempotencyKey))
  if (!syntax.pass) {
    const bodyDigest = tolerantDigest(command.body)
    const orderId = `x${sha256Hex(`${command.principal.id}\n${command.nowMs}\n${bodyDigest}`).slice(0, 19)}`
    return reject(command, records, { orderId, accountId: null, idempotencyKey: command.idempotencyKey, bodyDigest }, syntax.reason)
  }
  const bodyDigest = sha256Hex(canonicalJson(command.body))
  const { body, idempotencyKey } = syntax.value
  const existing = state.idempotency.get(idempotencyIndexKey(body.account, idempotencyKey))
  if (existing !== undefined) return repeat(existing, bodyDigest)
  const ids = { orderId: orderIdFor(state, body.account, idempotencyKey, command.nowMs), accountId: body.account, idempotencyKey, bodyDigest }
  return runGuards(state, command, syntax.value, ids, records)
}

interface Ids {
  orderId: string
  accountId: string | null
  idempotencyKey: string | null
  bodyDigest: string
}

// Each refusal calls reject itself: a `fail` closure made per order was a function and a scope per order.
function runGuards(state: KernelState, command: PlaceCommand, syntax: SyntaxValue, ids: Ids, records: GuardRecord[]): Decision {
  const { body } = syntax
  const policy = record(records, 'policy', policyGuard(state, { principal: command.principal, body, market: command.market, nowMs: command.nowMs }))
  if (!policy.pass) return reject(command, records, ids, policy.reason)
  const { instrument } = policy.value
  const params = state.config?.params
  assert(params !== undefined, 'a policy can only exist once the kernel is configured')
  const mode = record(records, 'mode', modeGuard(state, { principal: command.principal, policy: policy.value.policy, live: command.live, configDigest: command.configDigest }))
  if (!mode.pass) return reject(command, records, ids, mode.reason)
  // The band holds for the price as it will be sent (a sell's rounds up to the tick, a buy's down).
  const bandPrice = body.price === undefined ? null : sentPrice(body.price, body.side, instrument)
  // The order as the book rules see it, only when one is on (with every limit off the guard never reads it): as sent,
  // its quantity rounded down to the lot like its price to the tick — the share of the touch it can take is the sent
  // quantity's, as at an amend, a resend and the send's recheck, which all see the order as recorded.
  const order = bookLimitsOff(instrument, params) ? null : { side: body.side, orderType: body.type, price: bandPrice, qty: sentQty(body.qty, instrument), reduceOnly: body.reduce_only }
  const data = record(records, 'data_health', dataHealthGuard({ price: bandPrice, order, instrument, params, market: command.market, nowMs: command.nowMs }))
  if (!data.pass) return reject(command, records, ids, data.reason)
  const reservation = record(records, 'reservation', reservationGuard(state, body, instrument, params, data.value))
  if (!reservation.pass) return reject(command, records, ids, reservation.reason)
  const capability = record(records, 'capability', capabilityGuard(body, instrument, data.value))
  if (!capability.pass) return reject(command, records, ids, capability.reason)
  const lane = record(records, 'lane', laneGuard(state, { lane: body.reduce_only ? 1 : 2, accountId: body.account, params, newKeyAtMs: command.nowMs }))
  if (!lane.pass) return reject(command, records, ids, lane.reason)
  const orderId = ids.orderId
  const event: EventOf<'order.accepted'> = {
    type: 'order.accepted',
    atMs: command.nowMs,
    orderId,
    accountId: body.account,
    idempotencyKey: syntax.idempotencyKey,
    bodyDigest: ids.bodyDigest,
    clientOrderId: body.client_order_id ?? null,
    venue: body.venue,
    symbol: body.symbol,
    baseAsset: instrument.baseAsset,
    quoteAsset: instrument.quoteAsset,
    side: body.side,
    orderType: body.type,
    qty: capability.value.qty,
    price: capability.value.price,
    tif: body.tif,
    postOnly: body.post_only,
    reduceOnly: body.reduce_only,
    lane: lane.value,
    venueClientOrderId: venueClientOrderId(orderId),
    reservationAsset: reservation.value.asset,
    reservationAmount: reservation.value.amount,
    flattenId: null,
    decision: decisionRecord(command, records),
  }
  // The optional members, in the order spreads put them before: set here, no object is made for each.
  const traceparent = checkedTraceparent(command)
  if (traceparent !== undefined) event.traceparent = traceparent
  if (body.ttl_ms !== undefined) event.ttlMs = body.ttl_ms
  // A market order's protection price, from the reference price its reservation was taken at (data health's): recorded
  // so every later send of it — a resend, a standby's, a replay's — goes out at the same limit.
  const protectionPrice = body.type === 'market' ? marketProtectionPrice(body, instrument, data.value) : null
  if (protectionPrice !== null) event.protectionPrice = protectionPrice
  // Sent with no limit, it is held to nothing at the venue: the worst price it was reserved at, for its fills' check.
  else if (body.type === 'market' && data.value > 0n) event.worstPrice = plainMarketWorstPrice(body.side, data.value, instrument)
  return { events: [event], reply: { kind: 'accepted', orderId, duplicate: false } }
}

function reject(command: PlaceCommand, records: GuardRecord[], ids: Ids, reason: ReasonCode): Decision {
  const guard = records.at(-1)?.guard ?? 'syntax'
  // The request's trace goes on its rejection as on an acceptance: the record is the one answer the request left.
  const event = { type: 'order.rejected' as const, atMs: command.nowMs, ...ids, reason, guard, decision: decisionRecord(command, records), ...traceMemberOf(command) }
  return { events: [event], reply: { kind: 'rejected', orderId: ids.orderId, reason, guard, duplicate: false } }
}

function repeat(existing: IdempotencyEntry, bodyDigest: string): Decision {
  if (existing.bodyDigest !== bodyDigest) {
    return { events: [], reply: { kind: 'conflict', orderId: existing.orderId, reason: 'IDEMPOTENCY_CONFLICT' } }
  }
  if (existing.outcome === 'accepted') return { events: [], reply: { kind: 'accepted', orderId: existing.orderId, duplicate: true } }
  const reason = existing.reason ?? 'SYNTAX_INVALID'
  return { events: [], reply: { kind: 'rejected', orderId: existing.orderId, reason, guard: existing.guard ?? 'syntax', duplicate: true } }
}

/** A digest of a body that failed syntax: it may hold anything JSON can (even non-finite numbers), so never throw. */
function tolerantDigest(body: unknown): string {
  try {
    return sha256Hex(JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) ?? 'undefined')
  } catch {
    return sha256Hex(String(body))
  }
}
