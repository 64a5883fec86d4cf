/**
 * The kernel state's snapshot encoding: versioned, canonical for a given state (same state, same insertion order →
 * same bytes), and checked field by field on decode. The schema fingerprint is a hash of every codec's shape plus
 * KERNEL_STATE_FORMAT_VERSION; a snapshot whose fingerprint is neither this build's nor the previous format's (read
 * and upgraded, READABLE_SCHEMAS) is refused, never misread.
 *
 * The `kernel` section:
 *
 *   u32   JSON length in bytes (little-endian)
 *   [n]   UTF-8 JSON: every field but the idempotency index, as one positional record
 *   [..]  the idempotency index as binary columns (idempotency-columns.ts) — most of the state by size
 *
 * Bump KERNEL_STATE_FORMAT_VERSION when a field keeps its name and type but changes meaning; adding, removing,
 * renaming or retyping a field changes the fingerprint by itself (and the Fields<T> tables make the typecheck demand it).
 */

import { sha256Hex } from '../../domain/canonical-json.ts'
import type { KernelState } from '../../kernel/state.ts'
import type { Order } from '../../domain/orders.ts'
import { endedKeyedByOwnId, ordersKeyedByOwnId, shareIdempotencyOrderIds } from '../../kernel/shared-strings.ts'
import { CodecError, mapOf, nullable, num, record, type Codec, type Fields, type Json, type MapCodec } from './codec-kit.ts'
import { decodeIdempotencyColumns, IDEMPOTENCY_COLUMNS_SHAPE, IDEMPOTENCY_TIMES_SHAPE, idempotencyColumns, idempotencyColumnsSliced } from './idempotency-columns.ts'
import { GenerationalMap } from '../../domain/generational-map.ts'
import { isMapLike } from '../../domain/map-like.ts'
import { CONFIG_PARTS, kernelStateFieldsV8, order, venueHealthEntries, type KernelStateRest, type KernelStateRestV23, type KernelStateRestV24 } from './state-parts.ts'
import { kernelStateV5, kernelStateV6, kernelStateV7, kernelStateV8, kernelStateV9, kernelStateV10, kernelStateV11, kernelStateV12, kernelStateV13, kernelStateV14, kernelStateV15, kernelStateV16, kernelStateV17, kernelStateV18, kernelStateV19, kernelStateV20, kernelStateV21, kernelStateV23, orderFromV25 } from './state-codec-older.ts'
import { revocationsCodec } from './revocations-codec.ts'
import { orderListsCodec } from './order-lists-codec.ts'
import { flattensCodec, flattensCodecV24 } from './flattens-codec.ts'
import { accountSwitchesCodec } from './account-switches-codec.ts'

// 26: orders hold cumNotionalRemainder (what rounding each fill's notional to the unit dropped, in 1e-16, so the
// average fill price is the exact notional ÷ cumQty rounded once: src/domain/orders.ts); a version 25 or 24 section is
// read with none (state-codec-older.ts NO_NOTIONAL_REMAINDER) — unlike the other fields, not what replaying its log
// gives: an order open across the upgrade keeps its fills until then as rounded, the small error those builds showed.
// The state digest leaves the field out (kernel/canonical-state.ts), so replay-verify and HA digests agree however a
// node got its state;
// 25: the state holds accountSwitches (the accounts stopped on their own: an auto-stop order_rate trip with scope
// `account`, src/kernel/account-switch.ts), and a held flatten answer's holdings not closed carry their reason
// (src/kernel/flatten-close-sizes.ts: what the closes left of an instrument's holding, and the size rule it misses;
// absent: no instrument trades the asset); a version 24 or older section is read with no account stopped and no
// reason, as replaying its log gives: those builds wrote no `account.switch_changed`, and no
// `account.flatten_requested` naming a reason (payload version 12) — every holding they named was one no instrument
// trades;
// 24: the state holds flattens (per account, each flatten's first answer, which its repeat answers:
// src/kernel/flatten-held.ts), and orders hold worstPrice (a plain market order's worst price, what its reservation
// was taken at and its fills are held to, src/kernel/intake/sent-order.ts plainMarketWorstPrice); a version 23 or 22
// section is read with no flatten held and every worstPrice null, as replaying its log gives: those builds wrote no
// `account.flatten_requested` with an answer and no `order.accepted` or `order.resend_requested` with a worst price
// (payload version 11), and a repeat of such a flatten is decided again, as they decided it; and each order's amend
// holds requestedAtMs (when it was asked, src/kernel/stale-at-start.ts): one read from a version 23 or older section
// counts as asked at the order's acceptance (state-codec-older.ts amendFromV23: those sections do not hold the time
// replaying the log gives, the request's atMs, and the acceptance is the earliest it can have been);
// 23: the state's holdRule may be 2 (src/kernel/reservations.ts HOLD_RULE_GRACE), the fields format 22's: a format 22
// section is read as is (its rule at most 1). The build before read any hold rule but 1 as none, so it must pass over
// this build's snapshots (SCHEMA_MISMATCH) and meet the record of rule 2 in the log, which it refuses, rather than
// replay the records after such a snapshot with synthetic fills holding nothing;
// 22: orders hold syntheticFeeHeld (what a sell holds in its quote asset for the fee of its synthetic quantity
// pending a true-up, src/kernel/reservations.ts syntheticFeeAllowance) and syntheticHeldQty, …Cash (the part of that
// quantity that holds: synthetic fills applied after the log adopted the hold rule), and the state holdRule
// (kernel.hold_rule_adopted); a version 21 or older section is read with none held and no rule adopted, as replaying
// its log gives (format 22 gained the last three before any build wrote it); 21: the config's params hold the idempotency key window and its cap (idempotencyKeyHeldMs, idempotencyKeysHeldMax,
// src/kernel/key-window.ts; absent: keys held for good), and the idempotency columns each entry's decidedAtMs (a
// version 20 or older section is read with them absent and the times 0, as replaying its log gives: those builds
// recorded no window, and the kernel stamps the entries it holds when a window is adopted);
// 20: policies hold selfTrade (self-trade prevention per account, src/kernel/intake/self-trade.ts; absent: no check. A
// version 19 or older section is read without it, as replaying its log gives: those builds recorded no policy with it);
// 19: orders hold protectionPrice (a market order's limit at the venue, src/kernel/intake/sent-order.ts; a version 18
// or older section is read with it null, as replaying its log gives: those builds logged no `order.accepted` with
// one, and such an order is sent as they sent it, a plain market order);
// 18: the config's params hold terminalOrdersHeldMax (the hard cap on ended orders held, src/kernel/retention.ts;
// absent: none. A version 17 or older section is read with it absent, as replaying its log gives: those builds
// recorded none); 17: orders hold expiresAtMs (the end of the order's time-to-live, src/kernel/ttl.ts; a version 16 or older section
// is read with it null, as replaying its log gives: those builds logged no `order.accepted` with a ttlMs);
// 16: the state holds orderLists (the OCO lists, open and the newest ended, src/kernel/order-lists/; a version 15 or
// older section is read with none, as replaying its log gives: those builds logged no `order_list.accepted`);
// 15: the state holds revocations (the bearer tokens refused before their expiry, src/kernel/revocations.ts; a version
// 14 or older section is read with none, as replaying its log gives: those builds logged no `auth.token_revoked` or
// `auth.subject_revoked`); 14: the config's instruments and params hold the book limits (touchQtyMin; spreadBpsMax, touchShareBpsMax: absent
// when off; a version 13 or older section is read with them absent, as replaying its log gives: those builds recorded
// none); 13: policies hold newOrdersBy (the principal kinds that may place new orders; a version 12 or older section is
// read without it — every kind may — as replaying its log gives: those builds recorded no policy that set it);
// 12: the state holds venueHealth (per venue the recorded health level and its emergency override; a version 11 or
// older section is read with none, as replaying its log gives: those builds logged no `venue.health_changed`);
// 11: orders hold syntheticDeclinedCumQty (the venue cumulative quantity of the synthetic fill last declined and
// alerted; a version 10 or older section is read with it null, as replaying its log gives: those builds logged no
// `order.synthetic_declined`); 10: orders hold limitLoosest (the loosest limit of every version, kept at each applied amend; a version 9 or older
// section is read with it null, as replaying its log gives: those builds logged no `order.limit_loosest`); 9: the
// state holds retireRule (the retirement rule its log adopted; a version 8 or older section is read with it null);
// 8: orders hold the synthetic quantity pending its true-up (syntheticPendingQty, …Cash, …Notional; a version 7, 6 or
// 5 section is read with none pending); 7: orders hold bootstrapSuspect (a version 6 or 5 section is read with it
// false); 6: orders hold syntheticCumQty, overfillCumQty and overfillRecheckMs (a version 5 section is read and
// upgraded: KERNEL_STATE_SCHEMA_V5); 5: the section is the JSON of every other field, then the idempotency index as
// binary columns (was all JSON); 4: terminalOrderIds maps order id → when it ended (was a set); 3: idempotency keys
// `account key` (was a newline); 2: inFlight keyed by order id. The readers of 5 to 23: state-codec-older.ts (22 and 23
// by one: the same fields); of 24 and 25: kernelStateV24 and kernelStateV25 below.
export const KERNEL_STATE_FORMAT_VERSION = 26

/**
 * This build's fields but flattens (format 24's addition beside orders' worstPrice) and accountSwitches (format 25's),
 * its orders as `orders` reads them (this build's, or format 25's without cumNotionalRemainder).
 */
function fieldsButFlattens(orders: Codec<Map<string, Order>>): Fields<KernelStateRestV23> {
  return {
    ...kernelStateFieldsV8(orders, CONFIG_PARTS),
    retireRule: nullable(num),
    venueHealth: venueHealthEntries,
    revocations: revocationsCodec,
    orderLists: orderListsCodec,
    holdRule: nullable(num),
  }
}

/** Formats 24 and 25's orders: without cumNotionalRemainder (read with none, see format 26 above). */
const ORDERS_V25 = mapOf(orderFromV25)

/** Format 24's fields: its held flatten answers' holdings without a reason, and no accountSwitches. */
const FIELDS_V24: Fields<KernelStateRestV24> = { ...fieldsButFlattens(ORDERS_V25), flattens: flattensCodecV24 }

const kernelState = record<KernelStateRest>('KernelState', { ...fieldsButFlattens(mapOf(order)), flattens: flattensCodec, accountSwitches: accountSwitchesCodec })

/** A state as format 25 wrote it: this build's fields, its orders without cumNotionalRemainder (see format 26 above). */
const kernelStateV25: Codec<KernelStateRest> = (() => {
  const older = record<KernelStateRest>('KernelState', { ...fieldsButFlattens(ORDERS_V25), flattens: flattensCodec, accountSwitches: accountSwitchesCodec })
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError("kernel state is written in this build's format, never in version 25")
    },
    decode: (json, path) => older.decode(json, path),
  }
})()

/**
 * A state as format 24 wrote it: this build's fields but accountSwitches (read with none), its held flatten answers'
 * holdings without a reason (see format 25 above), as replaying its log gives.
 */
const kernelStateV24: Codec<KernelStateRest> = (() => {
  const older = record<KernelStateRestV24>('KernelState', FIELDS_V24)
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError("kernel state is written in this build's format, never in version 24")
    },
    decode: (json, path) => ({ ...older.decode(json, path), accountSwitches: new Map() }),
  }
})()

function schemaId(version: number, state: Codec<KernelStateRest>, columns = IDEMPOTENCY_COLUMNS_SHAPE): string {
  return `kernel-state/v${version}/${sha256Hex(`${state.shape}+${columns}`).slice(0, 16)}`
}

/** Identifies this build's kernel-state encoding; snapshots carry it and are refused when it differs. */
export const KERNEL_STATE_SCHEMA = schemaId(KERNEL_STATE_FORMAT_VERSION, kernelState, `${IDEMPOTENCY_COLUMNS_SHAPE};${IDEMPOTENCY_TIMES_SHAPE}`)

/**
 * The encodings earlier builds wrote, which this build still reads: a snapshot of either upgrades to the state
 * replaying its log gives, so an upgrade over a compacted log does not need the archived segments. Their ids are the
 * ones those builds wrote (specs pin them).
 */
export const KERNEL_STATE_SCHEMA_V5 = schemaId(5, kernelStateV5)
export const KERNEL_STATE_SCHEMA_V6 = schemaId(6, kernelStateV6)
export const KERNEL_STATE_SCHEMA_V7 = schemaId(7, kernelStateV7)
export const KERNEL_STATE_SCHEMA_V8 = schemaId(8, kernelStateV8)
export const KERNEL_STATE_SCHEMA_V9 = schemaId(9, kernelStateV9)
export const KERNEL_STATE_SCHEMA_V10 = schemaId(10, kernelStateV10)
export const KERNEL_STATE_SCHEMA_V11 = schemaId(11, kernelStateV11)
export const KERNEL_STATE_SCHEMA_V12 = schemaId(12, kernelStateV12)
export const KERNEL_STATE_SCHEMA_V13 = schemaId(13, kernelStateV13)
export const KERNEL_STATE_SCHEMA_V14 = schemaId(14, kernelStateV14)
export const KERNEL_STATE_SCHEMA_V15 = schemaId(15, kernelStateV15)
export const KERNEL_STATE_SCHEMA_V16 = schemaId(16, kernelStateV16)
export const KERNEL_STATE_SCHEMA_V17 = schemaId(17, kernelStateV17)
export const KERNEL_STATE_SCHEMA_V18 = schemaId(18, kernelStateV18)
export const KERNEL_STATE_SCHEMA_V19 = schemaId(19, kernelStateV19)
export const KERNEL_STATE_SCHEMA_V20 = schemaId(20, kernelStateV20)
export const KERNEL_STATE_SCHEMA_V21 = schemaId(21, kernelStateV21, `${IDEMPOTENCY_COLUMNS_SHAPE};${IDEMPOTENCY_TIMES_SHAPE}`)
/** Format 22: format 23's fields, a hold rule of at most 1 (see format 23 above), read by format 23's reader. */
export const KERNEL_STATE_SCHEMA_V22 = schemaId(22, kernelStateV23, `${IDEMPOTENCY_COLUMNS_SHAPE};${IDEMPOTENCY_TIMES_SHAPE}`)
/** Format 25: this build's fields, its orders without cumNotionalRemainder (see format 26 above). */
export const KERNEL_STATE_SCHEMA_V25 = schemaId(25, kernelStateV25, `${IDEMPOTENCY_COLUMNS_SHAPE};${IDEMPOTENCY_TIMES_SHAPE}`)
/** Format 24: format 25's fields but accountSwitches, no reason on a held flatten answer's holdings (see format 25 above). */
export const KERNEL_STATE_SCHEMA_V24 = schemaId(24, kernelStateV24, `${IDEMPOTENCY_COLUMNS_SHAPE};${IDEMPOTENCY_TIMES_SHAPE}`)
/** Format 23: format 24's fields but flattens, its orders without worstPrice (see format 24 above). */
export const KERNEL_STATE_SCHEMA_V23 = schemaId(23, kernelStateV23, `${IDEMPOTENCY_COLUMNS_SHAPE};${IDEMPOTENCY_TIMES_SHAPE}`)

/** The schema ids this build reads, each with the codec that reads it; its own first. */
const READABLE_SCHEMAS: ReadonlyMap<string, Codec<KernelStateRest>> = new Map([
  [KERNEL_STATE_SCHEMA, kernelState],
  [KERNEL_STATE_SCHEMA_V25, kernelStateV25],
  [KERNEL_STATE_SCHEMA_V24, kernelStateV24],
  [KERNEL_STATE_SCHEMA_V23, kernelStateV23],
  [KERNEL_STATE_SCHEMA_V22, kernelStateV23],
  [KERNEL_STATE_SCHEMA_V21, kernelStateV21],
  [KERNEL_STATE_SCHEMA_V20, kernelStateV20],
  [KERNEL_STATE_SCHEMA_V19, kernelStateV19],
  [KERNEL_STATE_SCHEMA_V18, kernelStateV18],
  [KERNEL_STATE_SCHEMA_V17, kernelStateV17],
  [KERNEL_STATE_SCHEMA_V16, kernelStateV16],
  [KERNEL_STATE_SCHEMA_V15, kernelStateV15],
  [KERNEL_STATE_SCHEMA_V14, kernelStateV14],
  [KERNEL_STATE_SCHEMA_V13, kernelStateV13],
  [KERNEL_STATE_SCHEMA_V12, kernelStateV12],
  [KERNEL_STATE_SCHEMA_V11, kernelStateV11],
  [KERNEL_STATE_SCHEMA_V10, kernelStateV10],
  [KERNEL_STATE_SCHEMA_V9, kernelStateV9],
  [KERNEL_STATE_SCHEMA_V8, kernelStateV8],
  [KERNEL_STATE_SCHEMA_V7, kernelStateV7],
  [KERNEL_STATE_SCHEMA_V6, kernelStateV6],
  [KERNEL_STATE_SCHEMA_V5, kernelStateV5],
])

/** Whether this build can read a snapshot whose kernel section has this schema id. */
export function readsKernelSchema(schema: string): boolean {
  return READABLE_SCHEMAS.has(schema)
}

/** The schema ids this build reads, its own first. */
export function readableKernelSchemas(): string[] {
  return [...READABLE_SCHEMAS.keys()]
}

/** The state in its two parts: every other field as one JSON value, the idempotency index as binary columns. */
export interface EncodedKernelState {
  json: Json
  idempotency: Uint8Array
}

export function encodeKernelState(state: KernelState): EncodedKernelState {
  return { json: kernelState.encode(state), idempotency: idempotencyColumns(state.idempotency) }
}

export function decodeKernelState(encoded: { json: unknown; idempotency: Uint8Array }, options: { schema?: string } = {}): KernelState {
  const codec = READABLE_SCHEMAS.get(options.schema ?? KERNEL_STATE_SCHEMA)
  if (codec === undefined) throw new CodecError(`state: schema ${options.schema ?? ''} is not one this build reads (${readableKernelSchemas().join(', ')})`)
  const rest = codec.decode(encoded.json, 'state')
  // Each held order's id (and its other repeated strings) as one instance, as applying events leaves them: decoded,
  // every place that holds the text had its own string (src/kernel/shared-strings.ts).
  const orders = new GenerationalMap(ordersKeyedByOwnId(rest.orders))
  const idempotency = decodeIdempotencyColumns(encoded.idempotency, 'state.idempotency', { times: codec === kernelState || codec === kernelStateV25 || codec === kernelStateV24 || codec === kernelStateV23 || codec === kernelStateV21 })
  shareIdempotencyOrderIds(idempotency, orders)
  // The per-order Maps as the kernel builds them (initialState), so a restored state grows as a replayed one does.
  return {
    ...rest,
    orders,
    terminalOrderIds: new GenerationalMap(endedKeyedByOwnId(rest.terminalOrderIds, orders)),
    idempotency,
  }
}

/** The state as the snapshot's `kernel` section. */
export function kernelStateBytes(state: KernelState): Uint8Array {
  const encoded = encodeKernelState(state)
  return kernelSectionOf(JSON.stringify(encoded.json), encoded.idempotency)
}

/**
 * The same bytes as kernelStateBytes, produced in slices: large Maps (orders, the idempotency index) are encoded
 * `entriesPerSlice` entries at a time with `pause()` awaited between slices, so a snapshot of a large state never
 * blocks the event loop for long. `state` must not change meanwhile: pass a clone (cloneState) of the live state.
 */
export async function kernelStateBytesSliced(state: KernelState, options: { entriesPerSlice: number; pause: () => Promise<void> }): Promise<Uint8Array> {
  const parts: string[] = []
  for (const [key, codec] of kernelState.fields) {
    const value = state[key]
    if (isMapLike(value) && value.size > options.entriesPerSlice && 'inner' in codec) {
      const inner = (codec as MapCodec<unknown>).inner
      const slices: string[] = []
      let pairs: Json[] = []
      for (const [mapKey, member] of value as Map<string, unknown>) {
        pairs.push([mapKey, inner.encode(member)])
        if (pairs.length < options.entriesPerSlice) continue
        slices.push(JSON.stringify(pairs).slice(1, -1))
        pairs = []
        await options.pause()
      }
      if (pairs.length > 0) slices.push(JSON.stringify(pairs).slice(1, -1))
      parts.push(`[${slices.join(',')}]`)
    } else {
      parts.push(JSON.stringify(codec.encode(value)))
    }
  }
  const idempotency = await idempotencyColumnsSliced(state.idempotency, options)
  return kernelSectionOf(`[${parts.join(',')}]`, idempotency)
}

/**
 * Decodes a `kernel` section written under `schema` (default: this build's); throws CodecError (or SyntaxError) on
 * anything that is not that encoding.
 */
export function kernelStateFromBytes(bytes: Uint8Array, options: { schema?: string } = {}): KernelState {
  if (bytes.byteLength < 4) throw new CodecError(`state: ${bytes.byteLength} bytes is shorter than the JSON length`)
  const jsonBytes = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true)
  if (4 + jsonBytes > bytes.byteLength) throw new CodecError(`state: JSON length ${jsonBytes} overruns the ${bytes.byteLength}-byte section`)
  const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + jsonBytes)))
  return decodeKernelState({ json, idempotency: bytes.subarray(4 + jsonBytes) }, options)
}

/** A `kernel` section from its parts: u32 JSON length, the JSON, the idempotency columns. */
export function kernelSectionOf(json: string, idempotency: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(json)
  const bytes = new Uint8Array(4 + text.byteLength + idempotency.byteLength)
  new DataView(bytes.buffer).setUint32(0, text.byteLength, true)
  bytes.set(text, 4)
  bytes.set(idempotency, 4 + text.byteLength)
  return bytes
}
