/**
 * Intake of an order list (OCO): the list's own checks (shape, key, the legs on the list's account, venue and symbol,
 * the bound on open lists), then each leg through the place path itself (decidePlace: every §5 guard, the
 * idempotency index), the second on the state as if the first were accepted (leg-view.ts). Atomic: both legs pass
 * and the decision records both `order.accepted` and `order_list.accepted`; or the first leg that fails is recorded as
 * its `order.rejected` (as a single order's would be, so a repeat with the same body gets the same answer) and nothing
 * is recorded for the other leg or the list.
 *
 * Keys: the list's key is the Idempotency-Key header or client_list_id; a leg's is its client_order_id, or
 * `<list key>/<leg index>` when it has none. The list id derives from account and list key, as an order's does.
 */

import { canonicalJson, sha256Hex, sha256HexPrefix } from '../../domain/canonical-json.ts'
import type { EventOf } from '../../domain/events/index.ts'
import { LIST_KEY_CHARS_MAX, ORDER_LISTS_OPEN_MAX, orderListBodySchema } from '../../domain/order-lists.ts'

export { LIST_KEY_CHARS_MAX }
import type { ReasonCode } from '../../domain/reasons.ts'
import { traceMemberOf } from '../../domain/trace-context.ts'
import * as v from 'valibot'
import type { Decision, PlaceCommand, PlaceListCommand, Reply } from '../commands.ts'
import { decidePlace, orderIdFor } from '../intake/index.ts'
import { idempotencyIndexKey, type KernelState } from '../state.ts'
import { keyWindowMs } from '../key-window.ts'
import { heldListIdOf } from './list-keys.ts'
import { stateWithLeg } from './leg-view.ts'

/**
 * A new list's id: from account and list key; under the key window (src/kernel/key-window.ts) from its first leg's new
 * order id too, so a list key taken again once its list is forgotten names a new list. A repeat finds its list by the
 * key (list-keys.ts), never by recomputing this.
 */
export function listIdFor(state: KernelState, accountId: string, listKey: string, firstLegOrderId: string): string {
  if (keyWindowMs(state) === null) return `L${sha256HexPrefix(`${accountId}\nlist\n${listKey}`, 10)}`
  return `L${sha256HexPrefix(`${accountId}\nlist\n${listKey}\n${firstLegOrderId}`, 10)}`
}

/** A leg's order id: its held key's, else the one a new order under its key gets now. */
function legIdOf(state: KernelState, accountId: string, legKey: string, nowMs: number): string {
  return state.idempotency.get(idempotencyIndexKey(accountId, legKey))?.orderId ?? orderIdFor(state, accountId, legKey, nowMs)
}

/** A leg's idempotency key: its client_order_id, or the list key with the leg's index. */
export function legKeyOf(listKey: string, leg: { client_order_id?: string | undefined }, index: number): string {
  return leg.client_order_id ?? `${listKey}/${index}`
}

export function decidePlaceList(state: KernelState, command: PlaceListCommand): Decision {
  const parsed = v.safeParse(orderListBodySchema, command.body)
  if (!parsed.success) {
    const issue = parsed.issues[0]
    return refused('SYNTAX_INVALID', `${issue.path?.map((item) => String(item.key)).join('.') ?? '(body)'}: ${issue.message}`)
  }
  const body = parsed.output
  const listKey = command.idempotencyKey ?? body.client_list_id ?? null
  if (listKey === null || listKey.length === 0 || listKey.length > LIST_KEY_CHARS_MAX) {
    return refused('IDEMPOTENCY_KEY_MISSING', `an order list needs an Idempotency-Key or client_list_id of 1–${LIST_KEY_CHARS_MAX} characters`)
  }
  const [first, second] = body.orders as [(typeof body.orders)[number], (typeof body.orders)[number]]
  const mismatch = legsMismatch(body.account, first, second, listKey)
  if (mismatch !== null) return refused('ORDER_LIST_LEGS_MISMATCH', mismatch)
  const bodyDigest = sha256Hex(canonicalJson(command.body))
  const legKeys = [legKeyOf(listKey, first, 0), legKeyOf(listKey, second, 1)]
  const legIds = legKeys.map((key) => legIdOf(state, body.account, key, command.nowMs))
  const listId = heldListIdOf(state, body.account, listKey) ?? listIdFor(state, body.account, listKey, legIds[0] as string)
  const existing = state.orderLists.lists.get(listId)
  if (existing !== undefined) {
    if (existing.bodyDigest !== bodyDigest) return refused('IDEMPOTENCY_CONFLICT', `list key ${listKey} was used with a different body (list ${listId})`)
    return { events: [], reply: { kind: 'list_accepted', listId, orderIds: [...existing.legs], duplicate: true } }
  }
  if (state.orderLists.open >= ORDER_LISTS_OPEN_MAX) return refused('ORDER_LISTS_FULL', `${state.orderLists.open} order lists are open`)
  const rawLegs = (command.body as { orders: unknown[] }).orders
  const legCommand = (index: number): PlaceCommand => ({ ...placeOf(command), idempotencyKey: legKeys[index] as string, body: rawLegs[index] })
  // A leg key the kernel already holds answers before any leg is decided afresh: a repeat of a list whose second leg
  // was rejected gets that rejection again (deciding the first leg anew could record and answer its own rejection
  // now), and a key naming another order is a conflict with nothing recorded. The place path's repeat answers it.
  for (const [index, key] of legKeys.entries()) {
    if (!state.idempotency.has(idempotencyIndexKey(body.account, key))) continue
    const known = legOutcome(decidePlace(state, legCommand(index)), { listId, index, bodyDigest })
    if (known.kind === 'answer') return known.decision
  }
  const one = decidePlace(state, legCommand(0))
  const firstAccepted = legOutcome(one, { listId, index: 0, bodyDigest })
  if (firstAccepted.kind === 'answer') return firstAccepted.decision
  const two = decidePlace(stateWithLeg(state, firstAccepted.event), legCommand(1))
  const secondAccepted = legOutcome(two, { listId, index: 1, bodyDigest })
  if (secondAccepted.kind === 'answer') return secondAccepted.decision
  const accepted: EventOf<'order_list.accepted'> = {
    type: 'order_list.accepted',
    atMs: command.nowMs,
    listId,
    listType: body.type,
    accountId: body.account,
    listKey,
    bodyDigest,
    principalId: command.principal.id,
    legs: legIds,
    ...traceMemberOf(command),
  }
  return { events: [firstAccepted.event, secondAccepted.event, accepted], reply: { kind: 'list_accepted', listId, orderIds: legIds, duplicate: false } }
}

type LegOutcome = { kind: 'accepted'; event: EventOf<'order.accepted'> } | { kind: 'answer'; decision: Decision }

/**
 * A leg's decision as the list's: accepted (go on), or the list's answer — the leg's rejection (its record kept), or,
 * when the leg's key already names an order while the list is not held, a repeat of a list that retired from memory or
 * a conflict (never a second order): the transport tells which from the log (list_leg_repeat).
 */
function legOutcome(decision: Decision, leg: { listId: string; index: number; bodyDigest: string }): LegOutcome {
  const reply = decision.reply
  const event = decision.events[0]
  if (reply.kind === 'accepted' && !reply.duplicate && event?.type === 'order.accepted') return { kind: 'accepted', event }
  if (reply.kind === 'rejected') {
    const rejected: Reply = { kind: 'list_rejected', listId: leg.listId, leg: leg.index, orderId: reply.orderId, reason: reply.reason, guard: reply.guard, duplicate: reply.duplicate }
    return { kind: 'answer', decision: { events: decision.events, reply: rejected } }
  }
  const orderId = 'orderId' in reply ? reply.orderId : '?'
  if (reply.kind === 'accepted') {
    // The same leg body under a key whose order is not held with this list: the list retired from memory since, or
    // another order was placed under this key with that body. Both give the same order id; the log tells them apart.
    const detail = `leg ${leg.index}'s key already names order ${orderId}, and list ${leg.listId} is not held: either that list was accepted and has since retired from memory (its first answer is no longer held), or another order was placed under this key with this leg's body`
    return { kind: 'answer', decision: { events: [], reply: { kind: 'list_leg_repeat', listId: leg.listId, leg: leg.index, orderId, bodyDigest: leg.bodyDigest, detail } } }
  }
  return { kind: 'answer', decision: refused('IDEMPOTENCY_CONFLICT', `leg ${leg.index}'s key already names order ${orderId}, which is not a leg of list ${leg.listId}`) }
}

function legsMismatch(account: string, first: LegBody, second: LegBody, listKey: string): string | null {
  for (const [index, leg] of [first, second].entries()) {
    if (leg.account !== account) return `orders.${index}.account: expected the list's account ${account}, got ${leg.account}`
  }
  if (first.venue !== second.venue || first.symbol !== second.symbol) {
    return `orders.1: expected the venue and symbol of orders.0 (${first.venue}:${first.symbol}), got ${second.venue}:${second.symbol}`
  }
  if (legKeyOf(listKey, first, 0) === legKeyOf(listKey, second, 1)) return `orders.1.client_order_id: expected a key other than orders.0's`
  // A leg's time-to-live ending is a cancel, and a canceled leg cancels its sibling: with one leg's TTL alone, a
  // take-profit running out would take the stop-loss down with it and leave the position unprotected. So the legs
  // share one TTL, or neither has one.
  if (first.ttl_ms !== second.ttl_ms) {
    return `orders.1.ttl_ms: expected the ttl_ms of orders.0 (${first.ttl_ms ?? 'none'}): the legs of a list end together, got ${second.ttl_ms ?? 'none'}`
  }
  return null
}

interface LegBody {
  account: string
  venue: string
  symbol: string
  client_order_id?: string | undefined
  ttl_ms?: number | undefined
}

function placeOf(command: PlaceListCommand): Omit<PlaceCommand, 'idempotencyKey' | 'body'> {
  const { kind: _kind, idempotencyKey: _key, body: _body, ...rest } = command
  return { kind: 'place', ...rest }
}

function refused(reason: ReasonCode, detail: string): Decision {
  return { events: [], reply: { kind: 'refused', reason, detail } }
}
