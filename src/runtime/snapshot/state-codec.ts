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
import type { AccountLedger, InFlightCall, KernelCounters, KernelState, WorkKind } from '../../kernel/state.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { Policy } from '../../domain/accounts.ts'
import type { KernelConfig, KernelParams } from '../../domain/kernel-config.ts'
import { LANES, MODES, TRADING_SWITCHES } from '../../domain/modes.ts'
import type { AmendState, Order, Reservation } from '../../domain/orders.ts'
import { REASON_CODES } from '../../domain/reasons.ts'
import { ORDER_STATES } from '../../domain/states.ts'
import {
  arrayOf, big, bool, CodecError, mapOf, nullable, num, oneOf, oneOfNumbers, record, smallSetOf, str, type Codec, type Fields, type Json, type MapCodec,
} from './codec-kit.ts'
import { syntheticCumQtyOfExecIds } from '../../kernel/synthetic-cover.ts'
import { decodeIdempotencyColumns, IDEMPOTENCY_COLUMNS_SHAPE, idempotencyColumns, idempotencyColumnsSliced } from './idempotency-columns.ts'
import { GenerationalMap, isMapLike } from '../../domain/generational-map.ts'

// 11: orders hold syntheticDeclinedCumQty (the venue cumulative quantity of the synthetic fill last declined and
// alerted; a version 10 or older section is read with it null, as replaying its log gives: those builds logged no
// `order.synthetic_declined`); 10: orders hold limitLoosest (the loosest limit of every version, kept at each applied amend; a version 9 or older
// section is read with it null, as replaying its log gives: those builds logged no `order.limit_loosest`); 9: the state holds retireRule (the retirement rule its log adopted; a version 8 or older section is read with it
// null); 8: orders hold the synthetic quantity pending its true-up (syntheticPendingQty, …Cash, …Notional; a version 7, 6
// or 5 section is read with none pending: see below); 7: orders hold bootstrapSuspect (a version 6 or 5 section is
// read with it false); 6: orders hold
// syntheticCumQty, overfillCumQty and overfillRecheckMs (a version 5 section is read and upgraded:
// KERNEL_STATE_SCHEMA_V5); 5: the section is the JSON of every other field, then the idempotency index as binary
// columns (was all JSON); 4: terminalOrderIds maps order id → when it ended (was a set); 3: idempotency keys
// `account key` (was a newline); 2: inFlight keyed by order id
export const KERNEL_STATE_FORMAT_VERSION = 11

const units = big
const reason = oneOf(REASON_CODES, 'reason')
const orderType = oneOf(['limit', 'market'] as const)
const tif = oneOf(['GTC', 'IOC', 'FOK', 'DAY'] as const)
const workKind = oneOf<WorkKind>(['place', 'cancel', 'amend', 'reconcile'])

const instrument = record<Instrument>('Instrument', {
  venue: str,
  symbol: str,
  baseAsset: str,
  quoteAsset: str,
  tickSize: units,
  lotSize: units,
  minQty: units,
  maxQty: units,
  minNotional: units,
  priceBandBps: num,
  orderTypes: arrayOf(orderType),
  timeInForce: arrayOf(tif),
  postOnly: bool,
  reduceOnly: bool,
  rateLimitPerSecond: num,
})

const policy = record<Policy>('Policy', {
  accountId: str,
  instruments: arrayOf(str),
  marketOrderInstruments: arrayOf(str),
  maxOrderNotional: units,
  maxOpenOrders: num,
  liveAllowed: bool,
  validFromMs: num,
  validUntilMs: num,
})

const params = record<KernelParams>('KernelParams', {
  takerFeeBps: num,
  referenceStaleMs: num,
  referenceJumpBps: num,
  lane1DepthMax: num,
  lane2DepthMax: num,
  accountQueuedMax: num,
  callsPerInstrumentMax: num,
  terminalOrdersKeptMax: num,
  terminalOrderRetireAfterMs: nullable(num),
  reconcileGraceMs: num,
  reconcileRecheckMs: num,
  sendRetryMs: num,
})

const kernelConfig = record<KernelConfig>('KernelConfig', {
  digest: str,
  instruments: arrayOf(instrument),
  policies: arrayOf(policy),
  params,
})

const reservation = record<Reservation>('Reservation', { asset: str, total: units, remaining: units })

const amendState = record<AmendState>('AmendState', {
  amendId: num,
  clientOrderId: str,
  qty: units,
  price: nullable(units),
  reservationTotal: units,
  stage: oneOf(['requested', 'sent', 'failed'] as const),
  attempts: num,
  sentAtMs: nullable(num),
})

/** The fields an order gained in format version 8. */
type PendingFields = 'syntheticPendingQty' | 'syntheticPendingCash' | 'syntheticPendingNotional'
/** The fields an order had in format version 10. */
type OrderV10 = Omit<Order, 'syntheticDeclinedCumQty'>
/** The fields an order had in format versions 8 and 9. */
type OrderV9 = Omit<OrderV10, 'limitLoosest'>
/** The fields an order had in format version 5. */
type OrderV5 = Omit<OrderV9, 'syntheticCumQty' | 'overfillCumQty' | 'overfillRecheckMs' | 'bootstrapSuspect' | PendingFields>
/** The fields an order had in format version 6. */
type OrderV6 = Omit<OrderV9, 'bootstrapSuspect' | PendingFields>
/** The fields an order had in format version 7. */
type OrderV7 = Omit<OrderV9, PendingFields>

const orderFieldsV5: Fields<OrderV5> = {
  orderId: str,
  accountId: str,
  idempotencyKey: str,
  clientOrderId: nullable(str),
  venue: str,
  symbol: str,
  baseAsset: str,
  quoteAsset: str,
  side: oneOf(['buy', 'sell'] as const),
  type: orderType,
  qty: units,
  price: nullable(units),
  tif,
  postOnly: bool,
  reduceOnly: bool,
  lane: oneOfNumbers(LANES),
  venueClientOrderId: str,
  status: oneOf(ORDER_STATES),
  cumQty: units,
  cumNotional: units,
  reservation,
  venueOrderId: nullable(str),
  sendAttempts: num,
  lastSendAtMs: nullable(num),
  cancelWanted: bool,
  cancelAttempts: num,
  notAtVenue: bool,
  notBeforeMs: num,
  execIds: smallSetOf(str),
  acceptedAtMs: num,
  updatedAtMs: num,
  unknownSinceMs: nullable(num),
  lastReason: nullable(reason),
  flattenId: nullable(str),
  clientIdChain: arrayOf(str),
  amendCount: num,
  amend: nullable(amendState),
}

const orderFieldsV6: Fields<OrderV6> = { ...orderFieldsV5, syntheticCumQty: units, overfillCumQty: nullable(units), overfillRecheckMs: num }

const orderFieldsV7: Fields<OrderV7> = { ...orderFieldsV6, bootstrapSuspect: bool }

const orderFieldsV9: Fields<OrderV9> = { ...orderFieldsV7, syntheticPendingQty: units, syntheticPendingCash: units, syntheticPendingNotional: units }

const orderFieldsV10: Fields<OrderV10> = { ...orderFieldsV9, limitLoosest: nullable(units) }

const order = record<Order>('Order', { ...orderFieldsV10, syntheticDeclinedCumQty: nullable(units) })

/**
 * No synthetic fill declined: what an order of a version 10 or older section holds, and what replaying its log gives
 * too — those builds logged no `order.synthetic_declined`, the only event that sets it.
 */
const NONE_DECLINED = { syntheticDeclinedCumQty: null } as const

/**
 * No loosest limit kept: what an order of a version 9 or older section holds, and what replaying its log gives too —
 * those builds logged no `order.limit_loosest`, the only event that sets it. A late fill under an earlier version of
 * such an order is not checked against a limit, as those builds did not check it.
 */
const NO_LOOSEST_LIMIT = { limitLoosest: null } as const

/**
 * Nothing pending a true-up: what an order of a version 7 or older section holds, and what replaying its log gives
 * too — those builds logged no `order.synthetic_pending`, the only event that makes quantity pending.
 */
const NOTHING_PENDING = { syntheticPendingQty: 0n, syntheticPendingCash: 0n, syntheticPendingNotional: 0n } as const

/** A codec that reads an older order's fields into this build's shape, and never writes them. */
function olderOrder<T extends object>(version: number, older: Codec<T>, upgrade: (old: T) => Order): Codec<Order> {
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError(`orders are written in this build's format, never in version ${version}`)
    },
    decode: (json, path) => upgrade(older.decode(json, path)),
  }
}

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
}))

/** A version 6 order: every field but bootstrapSuspect, which that build did not have (false, as its replay gives). */
const orderFromV6 = olderOrder(6, record<OrderV6>('Order', orderFieldsV6), (old) => ({ ...old, bootstrapSuspect: false, ...NOTHING_PENDING, ...NO_LOOSEST_LIMIT, ...NONE_DECLINED }))

/** A version 7 order: every field but the pending synthetic quantity (none, as its replay gives). */
const orderFromV7 = olderOrder(7, record<OrderV7>('Order', orderFieldsV7), (old) => ({ ...old, ...NOTHING_PENDING, ...NO_LOOSEST_LIMIT, ...NONE_DECLINED }))

/** A version 8 or 9 order: every field but limitLoosest (none kept, as its replay gives). */
const orderFromV9 = olderOrder(9, record<OrderV9>('Order', orderFieldsV9), (old) => ({ ...old, ...NO_LOOSEST_LIMIT, ...NONE_DECLINED }))

/** A version 10 order: every field but syntheticDeclinedCumQty (none declined, as its replay gives). */
const orderFromV10 = olderOrder(10, record<OrderV10>('Order', orderFieldsV10), (old) => ({ ...old, ...NONE_DECLINED }))

const ledger = record<AccountLedger>('AccountLedger', { balances: mapOf(units), reserved: mapOf(units) })

const inFlightCall = record<InFlightCall>('InFlightCall', { orderId: str, action: oneOf(['place', 'cancel', 'amend'] as const) })

const counters = record<KernelCounters>('KernelCounters', {
  eventsApplied: num,
  duplicateReportsDropped: num,
  transitionsRefused: num,
  alertsRaised: num,
})

const queue = mapOf(workKind)
const queues: Codec<KernelState['queues']> = {
  shape: `queues4(${queue.shape})`,
  encode: (lanes) => lanes.map((lane) => queue.encode(lane)),
  decode: (json, path) => {
    if (!Array.isArray(json) || json.length !== 4) throw new CodecError(`${path}: expected the 4 lane queues`)
    return [queue.decode(json[0], `${path}[0]`), queue.decode(json[1], `${path}[1]`), queue.decode(json[2], `${path}[2]`), queue.decode(json[3], `${path}[3]`)]
  },
}

/** Every field but the idempotency index, which follows the JSON as binary columns. */
type KernelStateRest = Omit<KernelState, 'idempotency'>

/** The state as formats 5–8 held it: without retireRule. */
type KernelStateRestV8 = Omit<KernelStateRest, 'retireRule'>

function kernelStateFieldsV8(orders: Codec<Map<string, Order>>): Fields<KernelStateRestV8> {
  return {
    lastLsn: num,
    config: nullable(kernelConfig),
    instruments: mapOf(instrument),
    policies: mapOf(policy),
    mode: oneOf(MODES),
    tradingSwitch: oneOf(TRADING_SWITCHES),
    accounts: mapOf(ledger),
    orders,
    terminalOrderIds: mapOf(num),
    queues,
    openOrders: mapOf(num),
    queuedByAccount: mapOf(num),
    inFlight: mapOf(inFlightCall),
    callsByInstrument: mapOf(num),
    counters,
  }
}

const kernelState = record<KernelStateRest>('KernelState', { ...kernelStateFieldsV8(mapOf(order)), retireRule: nullable(num) })

/** A state as format 10 wrote it: this build's fields, its orders without syntheticDeclinedCumQty (read with it null). */
const kernelStateV10 = record<KernelStateRest>('KernelState', { ...kernelStateFieldsV8(mapOf(orderFromV10)), retireRule: nullable(num) })

/** A state as format 9 wrote it: this build's fields, its orders without limitLoosest (read with it null). */
const kernelStateV9 = record<KernelStateRest>('KernelState', { ...kernelStateFieldsV8(mapOf(orderFromV9)), retireRule: nullable(num) })

/**
 * A state as formats 5–8 wrote it, read into this build's shape: no retirement rule adopted (null), which is what
 * replaying its log gives (kernel.retire_rule_adopted is newer).
 */
function olderState(version: number, orders: Codec<Map<string, Order>>): Codec<KernelStateRest> {
  const older = record<KernelStateRestV8>('KernelState', kernelStateFieldsV8(orders))
  return {
    shape: older.shape,
    encode: () => {
      throw new CodecError(`kernel state is written in this build's format, never in version ${version}`)
    },
    decode: (json, path) => ({ ...older.decode(json, path), retireRule: null }),
  }
}

const kernelStateV8 = olderState(8, mapOf(orderFromV9))
const kernelStateV7 = olderState(7, mapOf(orderFromV7))
const kernelStateV6 = olderState(6, mapOf(orderFromV6))
const kernelStateV5 = olderState(5, mapOf(orderFromV5))

function schemaId(version: number, state: Codec<KernelStateRest>): string {
  return `kernel-state/v${version}/${sha256Hex(`${state.shape}+${IDEMPOTENCY_COLUMNS_SHAPE}`).slice(0, 16)}`
}

/** Identifies this build's kernel-state encoding; snapshots carry it and are refused when it differs. */
export const KERNEL_STATE_SCHEMA = schemaId(KERNEL_STATE_FORMAT_VERSION, kernelState)

/**
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

/** The schema ids this build reads, each with the codec that reads it; its own first. */
const READABLE_SCHEMAS: ReadonlyMap<string, Codec<KernelStateRest>> = new Map([
  [KERNEL_STATE_SCHEMA, kernelState],
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
  // The per-order Maps as the kernel builds them (initialState), so a restored state grows as a replayed one does.
  return {
    ...rest,
    orders: new GenerationalMap(rest.orders),
    terminalOrderIds: new GenerationalMap(rest.terminalOrderIds),
    idempotency: decodeIdempotencyColumns(encoded.idempotency, 'state.idempotency'),
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
