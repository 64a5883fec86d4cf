/**
 * The codecs of the kernel state's parts for its snapshot encoding (state-codec.ts): instruments, policies, the kernel
 * config, orders, ledgers, queues, counters, and the state's fields but retireRule and the idempotency index. The
 * order's field tables go format by format (5, 6, 7, 9, 10, 16, 18, 21, 23, 25, then this build's): the readers of
 * older formats (state-codec-older.ts) decode an order with its format's table and upgrade it.
 */

import type { AccountLedger, InFlightCall, KernelCounters, KernelState, WorkKind } from '../../kernel/state.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { Policy } from '../../domain/accounts.ts'
import type { KernelConfig, KernelParams } from '../../domain/kernel-config.ts'
import { LANES, MODES, TRADING_SWITCHES } from '../../domain/modes.ts'
import { PRINCIPAL_KINDS, SELF_TRADE_SETTINGS } from '../../domain/accounts.ts'
import type { AmendState, Order, Reservation } from '../../domain/orders.ts'
import { REASON_CODES } from '../../domain/reasons.ts'
import { ORDER_STATES } from '../../domain/states.ts'
import { HEALTH_LEVELS } from '../../domain/gate.ts'
import { OVERRIDE_SCOPES, type VenueHealthEntry, type VenueOverride } from '../../domain/venue-health.ts'
import { absentOr, arrayOf, big, bool, CodecError, mapOf, nullable, num, oneOf, oneOfNumbers, record, smallSetOf, str, type Codec, type Fields } from './codec-kit.ts'

const units = big
const reason = oneOf(REASON_CODES, 'reason')
const orderType = oneOf(['limit', 'market'] as const)
const tif = oneOf(['GTC', 'IOC', 'FOK', 'DAY'] as const)
const workKind = oneOf<WorkKind>(['place', 'cancel', 'amend', 'reconcile'])

/** An instrument as formats 5–12 held it: without the book limit. */
export type InstrumentV12 = Omit<Instrument, 'touchQtyMin'>
/** The kernel params as formats 5–12 held them: without the book limits. */
export type KernelParamsV12 = Omit<KernelParamsV20, 'spreadBpsMax' | 'touchShareBpsMax' | 'terminalOrdersHeldMax'>
/** The kernel params as formats 18–20 held them: without the idempotency key window and its cap. */
export type KernelParamsV20 = Omit<KernelParams, 'idempotencyKeyHeldMs' | 'idempotencyKeysHeldMax'>

const instrumentFieldsV12: Fields<InstrumentV12> = {
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
}

const instrumentV12 = record<InstrumentV12>('Instrument', instrumentFieldsV12)
const instrument = record<Instrument>('Instrument', { ...instrumentFieldsV12, touchQtyMin: absentOr(units) })

/** A policy as formats 5–12 held it: without newOrdersBy (or selfTrade). */
export type PolicyV12 = Omit<Policy, 'newOrdersBy' | 'selfTrade'>

const policyFieldsV12: Fields<PolicyV12> = {
  accountId: str,
  instruments: arrayOf(str),
  marketOrderInstruments: arrayOf(str),
  maxOrderNotional: units,
  maxOpenOrders: num,
  liveAllowed: bool,
  validFromMs: num,
  validUntilMs: num,
}

/**
 * Formats 5–12's policy, read as this build's: without newOrdersBy, which is what replaying its log gives (those builds
 * recorded no policy that set it) and means every trading principal may place.
 */
export const policyV12: Codec<Policy> = record<PolicyV12>('Policy', policyFieldsV12)

/** A policy as formats 13–19 held it: newOrdersBy, without selfTrade. */
export type PolicyV19 = Omit<Policy, 'selfTrade'>

/**
 * Formats 5–12's fields, newOrdersBy (format 13), then the members later formats added (`later`). newOrdersBy is null
 * when the policy does not set it, read back as an absent field (not one set to undefined), so a restored policy is
 * the one the log's `kernel.configured` gives.
 */
function withKinds<T extends PolicyV19>(later: Fields<Omit<T, keyof PolicyV19>>): Codec<T> {
  type Row = Omit<T, 'newOrdersBy'> & { newOrdersBy: Policy['newOrdersBy'] | null }
  const kinds = record<Row>('Policy', { ...policyFieldsV12, newOrdersBy: nullable(arrayOf(oneOf(PRINCIPAL_KINDS))), ...later } as unknown as Fields<Row>)
  return {
    shape: kinds.shape,
    encode: (value) => kinds.encode({ ...value, newOrdersBy: value.newOrdersBy ?? null }),
    decode: (json, path) => {
      const { newOrdersBy, ...rest } = kinds.decode(json, path)
      return (newOrdersBy === null || newOrdersBy === undefined ? rest : { ...rest, newOrdersBy }) as unknown as T
    },
  }
}

/**
 * Formats 13–19's policy: newOrdersBy, no selfTrade — read without it (no self-trade check), what replaying their
 * logs gives: those builds recorded no policy with it (src/domain/accounts.ts).
 */
export const policyV19: Codec<Policy> = withKinds<PolicyV19>({})

/** Format 20's (this build's): selfTrade besides newOrdersBy (absent, as in an older log's record: null). */
export const policy: Codec<Policy> = withKinds<Policy>({ selfTrade: absentOr(oneOf(SELF_TRADE_SETTINGS)) })

const paramsFieldsV12: Fields<KernelParamsV12> = {
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
}

/** The kernel params as formats 14–17 held them: the book limits, without the cap on ended orders held. */
export type KernelParamsV17 = Omit<KernelParamsV20, 'terminalOrdersHeldMax'>

const paramsFieldsV17: Fields<KernelParamsV17> = { ...paramsFieldsV12, spreadBpsMax: absentOr(num), touchShareBpsMax: absentOr(num) }
const paramsFieldsV20: Fields<KernelParamsV20> = { ...paramsFieldsV17, terminalOrdersHeldMax: absentOr(num) }
const params = record<KernelParams>('KernelParams', { ...paramsFieldsV20, idempotencyKeyHeldMs: absentOr(num), idempotencyKeysHeldMax: absentOr(num) })
const paramsV20 = record<KernelParamsV20>('KernelParams', paramsFieldsV20) as Codec<KernelParams>
const paramsV17 = record<KernelParamsV17>('KernelParams', paramsFieldsV17) as Codec<KernelParams>
const paramsV12 = record<KernelParamsV12>('KernelParams', paramsFieldsV12) as Codec<KernelParams>

/** The config parts a format holds: its instruments, params and policies, in the config and the state's maps alike. */
export interface ConfigParts {
  config: Codec<KernelConfig | null>
  instruments: Codec<Map<string, Instrument>>
  policies: Codec<Map<string, Policy>>
}

function configParts(instruments: Codec<Instrument>, params: Codec<KernelParams>, policies: Codec<Policy>): ConfigParts {
  return {
    config: nullable(record<KernelConfig>('KernelConfig', { digest: str, instruments: arrayOf(instruments), policies: arrayOf(policies), params })),
    instruments: mapOf(instruments),
    policies: mapOf(policies),
  }
}

/** Format 21's (this build's): the idempotency key window and its cap in the params (absent: keys held for good). */
export const CONFIG_PARTS: ConfigParts = configParts(instrument, params, policy)

/**
 * Format 20's: a policy's selfTrade (absent: an older log's, no check), besides format 18's parts; no idempotency key
 * window — read with it absent (keys held for good), what replaying its log gives: that build recorded none. It never
 * writes.
 */
export const CONFIG_PARTS_V20: ConfigParts = configParts(instrument, paramsV20, policy)

/**
 * Formats 18–19's: the cap on ended orders held (absent: none), besides format 14's parts; no policy selfTrade — read
 * without it (no self-trade check), what replaying their logs gives: those builds recorded none. They never write.
 */
export const CONFIG_PARTS_V19: ConfigParts = configParts(instrument, paramsV20, policyV19)

/**
 * Formats 14–17's: the book limits in the instruments and params, a policy's newOrdersBy; no cap on ended orders held
 * — read with it absent (no cap), what replaying their logs gives: those builds recorded none. They never write.
 */
export const CONFIG_PARTS_V17: ConfigParts = configParts(instrument, paramsV17, policyV19)

/**
 * Format 13's: a policy's newOrdersBy, no book limits — read with them absent (off), what replaying its log gives:
 * that build recorded none. It never writes.
 */
export const CONFIG_PARTS_V13: ConfigParts = configParts(instrumentV12 as Codec<Instrument>, paramsV12, policyV19)

/**
 * Formats 5–12's: neither the book limits nor a policy's newOrdersBy — read with them absent (off; every kind of
 * principal may place), what replaying their logs gives: those builds recorded neither. They never write.
 */
export const CONFIG_PARTS_V12: ConfigParts = configParts(instrumentV12 as Codec<Instrument>, paramsV12, policyV12)

const reservation = record<Reservation>('Reservation', { asset: str, total: units, remaining: units })

/** An amend as formats 5–23 held it: without requestedAtMs (format 24). */
export type AmendStateV23 = Omit<AmendState, 'requestedAtMs'>

const amendStateFieldsV23: Fields<AmendStateV23> = {
  amendId: num,
  clientOrderId: str,
  qty: units,
  price: nullable(units),
  reservationTotal: units,
  stage: oneOf(['requested', 'sent', 'failed'] as const),
  attempts: num,
  sentAtMs: nullable(num),
}

const amendStateV23 = record<AmendStateV23>('AmendState', amendStateFieldsV23)

const amendState = record<AmendState>('AmendState', { ...amendStateFieldsV23, requestedAtMs: num })

/** The fields an order gained in format version 8. */
type PendingFields = 'syntheticPendingQty' | 'syntheticPendingCash' | 'syntheticPendingNotional'
/** The fields an order had in format versions 24 and 25: without cumNotionalRemainder. */
export type OrderV25 = Omit<Order, 'cumNotionalRemainder'>
/** The fields an order had in format versions 22 and 23 (its amend without requestedAtMs). */
export type OrderV23 = Omit<OrderV25, 'worstPrice' | 'amend'> & { amend: AmendStateV23 | null }
/** The fields an order had in format versions 19 to 21. */
export type OrderV21 = Omit<OrderV23, 'syntheticFeeHeld' | 'syntheticHeldQty' | 'syntheticHeldCash'>
/** The fields an order had in format versions 17 and 18. */
export type OrderV18 = Omit<OrderV21, 'protectionPrice'>
/** The fields an order had in format versions 11 to 16. */
export type OrderV16 = Omit<OrderV18, 'expiresAtMs'>
/** The fields an order had in format version 10. */
export type OrderV10 = Omit<OrderV16, 'syntheticDeclinedCumQty'>
/** The fields an order had in format versions 8 and 9. */
export type OrderV9 = Omit<OrderV10, 'limitLoosest'>
/** The fields an order had in format version 5. */
export type OrderV5 = Omit<OrderV9, 'syntheticCumQty' | 'overfillCumQty' | 'overfillRecheckMs' | 'bootstrapSuspect' | PendingFields>
/** The fields an order had in format version 6. */
export type OrderV6 = Omit<OrderV9, 'bootstrapSuspect' | PendingFields>
/** The fields an order had in format version 7. */
export type OrderV7 = Omit<OrderV9, PendingFields>

export const orderFieldsV5: Fields<OrderV5> = {
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
  amend: nullable(amendStateV23),
}

export const orderFieldsV6: Fields<OrderV6> = { ...orderFieldsV5, syntheticCumQty: units, overfillCumQty: nullable(units), overfillRecheckMs: num }

export const orderFieldsV7: Fields<OrderV7> = { ...orderFieldsV6, bootstrapSuspect: bool }

export const orderFieldsV9: Fields<OrderV9> = { ...orderFieldsV7, syntheticPendingQty: units, syntheticPendingCash: units, syntheticPendingNotional: units }

export const orderFieldsV10: Fields<OrderV10> = { ...orderFieldsV9, limitLoosest: nullable(units) }

export const orderFieldsV16: Fields<OrderV16> = { ...orderFieldsV10, syntheticDeclinedCumQty: nullable(units) }

export const orderFieldsV18: Fields<OrderV18> = { ...orderFieldsV16, expiresAtMs: nullable(num) }

export const orderFieldsV21: Fields<OrderV21> = { ...orderFieldsV18, protectionPrice: nullable(units) }

export const orderFieldsV23: Fields<OrderV23> = { ...orderFieldsV21, syntheticFeeHeld: units, syntheticHeldQty: units, syntheticHeldCash: units }

export const orderFieldsV25: Fields<OrderV25> = { ...orderFieldsV23, amend: nullable(amendState), worstPrice: nullable(units) }

export const order = record<Order>('Order', { ...orderFieldsV25, cumNotionalRemainder: big })

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
export type KernelStateRest = Omit<KernelState, 'idempotency'>

/** The state as format 24 held it: without the accounts' own switches (src/kernel/account-switch.ts). */
export type KernelStateRestV24 = Omit<KernelStateRest, 'accountSwitches'>

/** The state as formats 22 and 23 held it: without the flattens' answers (src/kernel/flatten-held.ts) either. */
export type KernelStateRestV23 = Omit<KernelStateRestV24, 'flattens'>

/** The state as formats 16–21 held it: without holdRule either. */
export type KernelStateRestV21 = Omit<KernelStateRestV23, 'holdRule'>

/** The state as format 15 held it: without order lists either. */
export type KernelStateRestV15 = Omit<KernelStateRestV21, 'orderLists'>

/** The state as formats 12–14 held it: without revocations either. */
export type KernelStateRestV14 = Omit<KernelStateRestV15, 'revocations'>

/** The state as formats 9–11 held it: without venueHealth either. */
export type KernelStateRestV11 = Omit<KernelStateRestV14, 'venueHealth'>

/** The state as formats 5–8 held it: without retireRule either. */
export type KernelStateRestV8 = Omit<KernelStateRestV11, 'retireRule'>

/** The fields of formats 5–8, each format's orders as `orders` reads them and its config parts as `configParts` do. */
export function kernelStateFieldsV8(orders: Codec<Map<string, Order>>, configParts: ConfigParts = CONFIG_PARTS_V12): Fields<KernelStateRestV8> {
  return {
    lastLsn: num,
    config: configParts.config,
    instruments: configParts.instruments,
    policies: configParts.policies,
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


const venueOverride = record<VenueOverride>('VenueOverride', {
  overrideId: str,
  reason: str,
  scope: oneOf(OVERRIDE_SCOPES),
  proposedBy: str,
  proposedAtMs: num,
  untilMs: num,
  approvedBy: nullable(str),
  approvedAtMs: nullable(num),
})

/** Format 12's venue health per venue (src/kernel/venue-health.ts). */
export const venueHealthEntries = mapOf(
  record<VenueHealthEntry>('VenueHealthEntry', {
    level: oneOf(HEALTH_LEVELS),
    score: num,
    detail: str,
    sinceMs: num,
    lsn: num,
    overridesProposed: num,
    override: nullable(venueOverride),
  }),
)
