/**
 * The readers of the kernel-state formats earlier builds wrote (5 to 23), each upgrading what it reads to the state
 * replaying its log gives (state-codec.ts lists them in READABLE_SCHEMAS). They never write: this build writes its own.
 * None holds a flatten's answer (`flattens`, format 24): read with none, as replaying its log gives — those builds
 * wrote no `account.flatten_requested` with one (payload version 11). None holds an account's own switch
 * (`accountSwitches`, format 25): read with none — those builds wrote no `account.switch_changed`. None holds the
 * remainder of an order's notional (`cumNotionalRemainder`, format 26): read with none (NO_NOTIONAL_REMAINDER).
 */

import type { AmendState, Order } from '../../domain/orders.ts'
import { emptyRevocations } from '../../domain/revocations.ts'
import { emptyOrderLists } from '../../domain/order-lists.ts'
import { revocationsCodec } from './revocations-codec.ts'
import { orderListsCodec } from './order-lists-codec.ts'
import { syntheticCumQtyOfExecIds } from '../../kernel/synthetic-cover.ts'
import { CodecError, mapOf, nullable, num, record, type Codec } from './codec-kit.ts'
import {
  CONFIG_PARTS, CONFIG_PARTS_V20, CONFIG_PARTS_V19, CONFIG_PARTS_V17, CONFIG_PARTS_V13, CONFIG_PARTS_V12, kernelStateFieldsV8, venueHealthEntries, orderFieldsV5, orderFieldsV6, orderFieldsV7, orderFieldsV9, orderFieldsV10, orderFieldsV16, orderFieldsV18, orderFieldsV21, orderFieldsV23, orderFieldsV25, type KernelStateRest, type KernelStateRestV8,
  type ConfigParts, type KernelStateRestV11, type KernelStateRestV14, type KernelStateRestV15, type KernelStateRestV21, type KernelStateRestV23,
  type AmendStateV23, type OrderV5, type OrderV6, type OrderV7, type OrderV9, type OrderV10, type OrderV16, type OrderV18, type OrderV21, type OrderV23, type OrderV25,
} from './state-parts.ts'

/**
 * No time-to-live: what an order of a version 16 or older section holds, and what replaying its log gives too — those
 * builds wrote no `order.accepted` with a ttlMs (payload version 7), the only record that sets one.
 */
const NO_TTL = { expiresAtMs: null } as const

/**
 * No protection price: what an order of a version 18 or older section holds, and what replaying its log gives too —
 * those builds wrote no `order.accepted` with a protectionPrice (payload version 10), the only record that sets one. Such
 * a market order is sent, resent and read back as those builds sent it: a plain market order.
 */
const NO_PROTECTION = { protectionPrice: null } as const

/**
 * No loosest limit kept: what an order of a version 9 or older section holds, and what replaying its log gives too —
 * those builds logged no `order.limit_loosest`, the only event that sets it. A late fill under an earlier version of
 * such an order is not checked against a limit, as those builds did not check it.
 */
const NO_LOOSEST_LIMIT = { limitLoosest: null } as const

/**
 * No synthetic fill declined: what an order of a version 10 or older section holds, and what replaying its log gives
 * too — those builds logged no `order.synthetic_declined`, the only event that sets it.
 */
const NONE_DECLINED = { syntheticDeclinedCumQty: null } as const

/**
 * Nothing pending a true-up: what an order of a version 7 or older section holds, and what replaying its log gives
 * too — those builds logged no `order.synthetic_pending`, the only event that makes quantity pending.
 */
const NOTHING_PENDING = { syntheticPendingQty: 0n, syntheticPendingCash: 0n, syntheticPendingNotional: 0n } as const

/**
 * Nothing held for a synthetic quantity pending: what an order of a version 21 or older section holds, and what
 * replaying its log gives too — those builds held none (their true-up paid the fee from whatever was free) and logged
 * no `kernel.hold_rule_adopted`, before which no synthetic fill holds (src/kernel/reservations.ts HOLD_RULE_SYNTHETIC):
 * read so, such an order's true-ups release none. The back office reads a section of those builds with none held
 * either (src/backoffice/orders.ts, synthetic-fee-hold.ts).
 */
const NO_FEE_HELD = { syntheticFeeHeld: 0n, syntheticHeldQty: 0n, syntheticHeldCash: 0n } as const

/**
 * No worst price: what an order of a version 23 or older section holds, and what replaying its log gives too — those
 * builds wrote no `order.accepted` or `order.resend_requested` with a worstPrice (payload version 11), the only records
 * that set one. A fill of such a plain market order is not held to a worst price, as those builds did not hold it.
 */
const NO_WORST_PRICE = { worstPrice: null } as const

/**
 * The amend of an order of a format 23 or older section, with the time it was requested (format 24), which those
 * formats did not hold: the order's acceptedAtMs. Replaying the log gives the request's own time (its
 * `order.amend_requested` atMs, in those builds' records too), which such a section does not have; no other part of it
 * holds that time (the amend has no idempotency entry). The acceptance is the earliest it can have been — an amend is
 * asked of an order already accepted — so the value errs one way only: a start's expire_stale
 * (kernel/stale-at-start.ts), the one reader, may fail unsent an amend of an old order asked shortly before the stop
 * (the order stands at its old terms, and the client may ask again), and never sends one that replay would have
 * failed. It differs from replay only for orders holding an amend at such a snapshot: egress replay-verify, rebuilding
 * from before one, reports them as differing in amend.requestedAtMs.
 */
function amendFromV23(old: { amend: AmendStateV23 | null; acceptedAtMs: number }): AmendState | null {
  return old.amend === null ? null : { ...old.amend, requestedAtMs: old.acceptedAtMs }
}

/**
 * No hold rule adopted: what a state of format 21 or older holds, and what replaying its log gives too — those builds
 * logged no `kernel.hold_rule_adopted` (the first start of this build does, at configure).
 */
const NO_HOLD_RULE = { holdRule: null } as const

/**
 * No remainder of the notional kept: what an order of a version 25 or older section holds (Order.cumNotionalRemainder,
 * format 26). Unlike the fields above, replaying its log gives more — each real fill's remainder — which such a section
 * does not have: its fills until then count as rounded (its average fill price is off by what their rounding dropped,
 * as those builds showed it). The state digest leaves the field out (kernel/canonical-state.ts), so a state read so and
 * the replayed one still agree.
 */
const NO_NOTIONAL_REMAINDER = { cumNotionalRemainder: 0n } as const

/**
 * A codec that reads an older order's fields into this build's shape, and never writes them. No format before 26
 * holds the notional's remainder (NO_NOTIONAL_REMAINDER), so each `upgrade` gives the rest.
 */
function olderOrder<T extends object>(version: number, older: Codec<T>, upgrade: (old: T) => OrderV25): Codec<Order> {
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError(`orders are written in this build's format, never in version ${version}`)
    },
    decode: (json, path) => Object.assign(upgrade(older.decode(json, path)), NO_NOTIONAL_REMAINDER),
  }
}

/** A version 24 or 25 order: every field but cumNotionalRemainder (none kept, NO_NOTIONAL_REMAINDER). */
export const orderFromV25 = olderOrder(25, record<OrderV25>('Order', orderFieldsV25), (old) => old)

/**
 * A version 5 order, read into this build's shape. syntheticCumQty is what replaying the order's events gives: the
 * highest venue cumulative quantity among its synthetic fills, which their execution ids carry. No overfill is held:
 * version 5 never recorded one (`order.overfill_recheck` is newer). Nor was any order a bootstrap suspect: the mark
 * did not exist, so false is what a replay of its log gives too.
 */
const orderFromV5 = olderOrder(5, record<OrderV5>('Order', orderFieldsV5), (old) => ({
  ...old,
  syntheticCumQty: syntheticCumQtyOfExecIds(old.execIds),
  overfillCumQty: null,
  overfillRecheckMs: 0,
  bootstrapSuspect: false,
  ...NOTHING_PENDING,
  ...NO_LOOSEST_LIMIT,
  ...NONE_DECLINED,
  ...NO_TTL,
  ...NO_PROTECTION,
  ...NO_FEE_HELD,
  ...NO_WORST_PRICE,
  amend: amendFromV23(old),
}))

/** A version 6 order: every field but bootstrapSuspect, which that build did not have (false, as its replay gives). */
const orderFromV6 = olderOrder(6, record<OrderV6>('Order', orderFieldsV6), (old) => ({ ...old, bootstrapSuspect: false, ...NOTHING_PENDING, ...NO_LOOSEST_LIMIT, ...NONE_DECLINED, ...NO_TTL, ...NO_PROTECTION, ...NO_FEE_HELD, ...NO_WORST_PRICE, amend: amendFromV23(old) }))

/** A version 7 order: every field but the pending synthetic quantity (none, as its replay gives). */
const orderFromV7 = olderOrder(7, record<OrderV7>('Order', orderFieldsV7), (old) => ({ ...old, ...NOTHING_PENDING, ...NO_LOOSEST_LIMIT, ...NONE_DECLINED, ...NO_TTL, ...NO_PROTECTION, ...NO_FEE_HELD, ...NO_WORST_PRICE, amend: amendFromV23(old) }))

/** A version 8 or 9 order: every field but limitLoosest (none kept, as its replay gives). */
const orderFromV9 = olderOrder(9, record<OrderV9>('Order', orderFieldsV9), (old) => ({ ...old, ...NO_LOOSEST_LIMIT, ...NONE_DECLINED, ...NO_TTL, ...NO_PROTECTION, ...NO_FEE_HELD, ...NO_WORST_PRICE, amend: amendFromV23(old) }))

/** A version 10 order: every field but syntheticDeclinedCumQty (none declined, as its replay gives). */
const orderFromV10 = olderOrder(10, record<OrderV10>('Order', orderFieldsV10), (old) => ({ ...old, ...NONE_DECLINED, ...NO_TTL, ...NO_PROTECTION, ...NO_FEE_HELD, ...NO_WORST_PRICE, amend: amendFromV23(old) }))

/** A version 11 to 16 order: every field but expiresAtMs (no time-to-live, as its replay gives). */
const orderFromV16 = olderOrder(16, record<OrderV16>('Order', orderFieldsV16), (old) => ({ ...old, ...NO_TTL, ...NO_PROTECTION, ...NO_FEE_HELD, ...NO_WORST_PRICE, amend: amendFromV23(old) }))

/** A version 17 or 18 order: every field but protectionPrice (none, as its replay gives). */
const orderFromV18 = olderOrder(18, record<OrderV18>('Order', orderFieldsV18), (old) => ({ ...old, ...NO_PROTECTION, ...NO_FEE_HELD, ...NO_WORST_PRICE, amend: amendFromV23(old) }))

/**
 * A state as formats 9–11 wrote it (the fields of format 11, its orders as `orders` reads them), read into this build's
 * shape: no venue health recorded (empty), which is what replaying its log gives (`venue.health_changed` is newer).
 */
function withoutVenueHealth(version: number, orders: Codec<Map<string, Order>>): Codec<KernelStateRest> {
  const older = record<KernelStateRestV11>('KernelState', { ...kernelStateFieldsV8(orders, CONFIG_PARTS_V12), retireRule: nullable(num) })
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError(`kernel state is written in this build's format, never in version ${version}`)
    },
    decode: (json, path) => ({ ...older.decode(json, path), venueHealth: new Map(), revocations: emptyRevocations(), orderLists: emptyOrderLists(), ...NO_HOLD_RULE, flattens: new Map(), accountSwitches: new Map() }),
  }
}

/**
 * A state of format 12, 13 or 14 as it wrote it: this build's orders and venue health, the config parts it held; no
 * revocations (empty), which is what replaying its log gives (`auth.token_revoked` and `auth.subject_revoked` are newer).
 */
function withVenueHealth(version: number, configParts: ConfigParts): Codec<KernelStateRest> {
  const older = record<KernelStateRestV14>('KernelState', { ...kernelStateFieldsV8(mapOf(orderFromV16), configParts), retireRule: nullable(num), venueHealth: venueHealthEntries })
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError(`kernel state is written in this build's format, never in version ${version}`)
    },
    decode: (json, path) => ({ ...older.decode(json, path), revocations: emptyRevocations(), orderLists: emptyOrderLists(), ...NO_HOLD_RULE, flattens: new Map(), accountSwitches: new Map() }),
  }
}

/**
 * A state as format 15 wrote it: everything but the order lists (read with none, as replaying its log gives: that
 * build logged no `order_list.accepted`).
 */
export const kernelStateV15: Codec<KernelStateRest> = (() => {
  const older = record<KernelStateRestV15>('KernelState', {
    ...kernelStateFieldsV8(mapOf(orderFromV16), CONFIG_PARTS_V17),
    retireRule: nullable(num),
    venueHealth: venueHealthEntries,
    revocations: revocationsCodec,
  })
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError("kernel state is written in this build's format, never in version 15")
    },
    decode: (json, path) => ({ ...older.decode(json, path), orderLists: emptyOrderLists(), ...NO_HOLD_RULE, flattens: new Map(), accountSwitches: new Map() }),
  }
})()

/** A version 19 to 21 order: every field but syntheticFeeHeld, syntheticHeldQty and …Cash (none held, NO_FEE_HELD). */
const orderFromV21 = olderOrder(21, record<OrderV21>('Order', orderFieldsV21), (old) => ({ ...old, ...NO_FEE_HELD, ...NO_WORST_PRICE, amend: amendFromV23(old) }))

/** A version 22 or 23 order: every field but worstPrice (none, NO_WORST_PRICE). */
const orderFromV23 = olderOrder(23, record<OrderV23>('Order', orderFieldsV23), (old) => ({ ...old, ...NO_WORST_PRICE, amend: amendFromV23(old) }))

/**
 * A state as formats 22 and 23 wrote it: this build's fields but flattens (none held), its orders without worstPrice
 * (read with it null: a plain market order's fills are held to no worst price, as replaying its log gives — those
 * builds recorded none).
 */
export const kernelStateV23: Codec<KernelStateRest> = (() => {
  const older = record<KernelStateRestV23>('KernelState', {
    ...kernelStateFieldsV8(mapOf(orderFromV23), CONFIG_PARTS),
    retireRule: nullable(num),
    venueHealth: venueHealthEntries,
    revocations: revocationsCodec,
    orderLists: orderListsCodec,
    holdRule: nullable(num),
  })
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError("kernel state is written in this build's format, never in version 23")
    },
    decode: (json, path) => ({ ...older.decode(json, path), flattens: new Map(), accountSwitches: new Map() }),
  }
})()

/**
 * A state of format 16 to 21 as it wrote it: every part this build holds (order lists included), its orders as `orders`
 * reads them and its config as `configParts` does — what each lacks is read as replaying its log gives.
 */
function withOrderLists(version: number, orders: Codec<Map<string, Order>>, configParts: ConfigParts): Codec<KernelStateRest> {
  const older = record<KernelStateRestV21>('KernelState', {
    ...kernelStateFieldsV8(orders, configParts),
    retireRule: nullable(num),
    venueHealth: venueHealthEntries,
    revocations: revocationsCodec,
    orderLists: orderListsCodec,
  })
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError(`kernel state is written in this build's format, never in version ${version}`)
    },
    decode: (json, path) => ({ ...older.decode(json, path), ...NO_HOLD_RULE, flattens: new Map(), accountSwitches: new Map() }),
  }
}

/**
 * A state as format 16 wrote it: this build's fields, its orders without expiresAtMs (read with it null: no
 * time-to-live, as replaying its log gives).
 */
export const kernelStateV16 = withOrderLists(16, mapOf(orderFromV16), CONFIG_PARTS_V17)

/**
 * A state as format 17 wrote it: this build's fields and orders, its config without the cap on ended orders held (read
 * with it absent, no cap: as replaying its log gives — that build recorded none).
 */
export const kernelStateV17 = withOrderLists(17, mapOf(orderFromV18), CONFIG_PARTS_V17)

/**
 * A state as format 18 wrote it: this build's fields, its orders without protectionPrice (read with it null: a market
 * order is sent as a plain market order, as replaying its log gives — that build recorded no protection price).
 */
export const kernelStateV18 = withOrderLists(18, mapOf(orderFromV18), CONFIG_PARTS_V19)

/**
 * A state as format 19 wrote it: this build's fields and orders, its policies without selfTrade (read without it: no
 * self-trade check, as replaying its log gives — that build recorded no policy with it).
 */
export const kernelStateV19 = withOrderLists(19, mapOf(orderFromV21), CONFIG_PARTS_V19)

/**
 * A state as format 20 wrote it: this build's fields and orders, its params without the idempotency key window and its
 * cap (read with them absent, keys held for good: as replaying its log gives — that build recorded none). Its
 * idempotency columns have no times (state-codec.ts reads them with decidedAtMs 0).
 */
export const kernelStateV20 = withOrderLists(20, mapOf(orderFromV21), CONFIG_PARTS_V20)

/**
 * A state as format 21 wrote it: this build's fields but holdRule (read null, NO_HOLD_RULE), its orders without
 * syntheticFeeHeld, syntheticHeldQty and …Cash (read with none held, NO_FEE_HELD).
 */
export const kernelStateV21 = withOrderLists(21, mapOf(orderFromV21), CONFIG_PARTS)

/** A state as format 14 wrote it: everything but revocations (read with none). */
export const kernelStateV14 = withVenueHealth(14, CONFIG_PARTS_V17)

/**
 * A state as format 13 wrote it: a policy's newOrdersBy, its config without the book limits (read with them absent,
 * off: as replaying its log gives — that build recorded none).
 */
export const kernelStateV13 = withVenueHealth(13, CONFIG_PARTS_V13)

/**
 * A state as format 12 wrote it: also its policies without newOrdersBy (read without it: every trading principal may
 * place, as replaying its log gives — those builds recorded no policy that set it).
 */
export const kernelStateV12 = withVenueHealth(12, CONFIG_PARTS_V12)

/** A state as format 11 wrote it: its orders without expiresAtMs (read with it null), no venue health. */
export const kernelStateV11 = withoutVenueHealth(11, mapOf(orderFromV16))

/** A state as format 10 wrote it: its orders without syntheticDeclinedCumQty (read with it null), no venue health. */
export const kernelStateV10 = withoutVenueHealth(10, mapOf(orderFromV10))

/** A state as format 9 wrote it: its orders without limitLoosest (read with it null), no venue health. */
export const kernelStateV9 = withoutVenueHealth(9, mapOf(orderFromV9))

/**
 * A state as formats 5–8 wrote it, read into this build's shape: no retirement rule adopted (null), which is what
 * replaying its log gives (kernel.retire_rule_adopted is newer).
 */
function olderState(version: number, orders: Codec<Map<string, Order>>): Codec<KernelStateRest> {
  const older = record<KernelStateRestV8>('KernelState', kernelStateFieldsV8(orders, CONFIG_PARTS_V12))
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError(`kernel state is written in this build's format, never in version ${version}`)
    },
    decode: (json, path) => ({ ...older.decode(json, path), retireRule: null, venueHealth: new Map(), revocations: emptyRevocations(), orderLists: emptyOrderLists(), ...NO_HOLD_RULE, flattens: new Map(), accountSwitches: new Map() }),
  }
}

export const kernelStateV8 = olderState(8, mapOf(orderFromV9))
export const kernelStateV7 = olderState(7, mapOf(orderFromV7))
export const kernelStateV6 = olderState(6, mapOf(orderFromV6))
export const kernelStateV5 = olderState(5, mapOf(orderFromV5))

