/**
 * The domain: egress's vocabulary as pure types and validation — fixed-point decimals, instruments, accounts and
 * policies, orders, the versioned event schemas and their codec, the gate's inputs and verdicts, and the I-102
 * dictionaries (order states, reason codes, error classes) that everything else refers to by name. No I/O, no clock.
 */

export * from './decimal.ts'
export type { Clock } from './clock.ts'
export { assert, AssertionError, unreachable } from './assert.ts'
export { canonicalJson, sha256Hex, toCanonical, type JsonValue } from './canonical-json.ts'
export { ORDER_STATES, TERMINAL_STATES, LIVE_STATES, isTerminal, type OrderState } from './states.ts'
export { ERROR_CLASSES, type ErrorClass } from './error-classes.ts'
export { REASONS, REASON_CODES, reasonInfo, isReasonCode, type ReasonCode, type ReasonInfo } from './reasons.ts'
export { GUARD_NAMES, type GuardName, type GuardRecord, type DecisionRecord, type GuardInputValue } from './guards.ts'
export * from './modes.ts'
export { instrumentSchema, instrumentKey, defaultSimInstruments, type Instrument, type InstrumentInput } from './instruments.ts'
export * from './accounts.ts'
export * from './kernel-config.ts'
export type { BookTouch, MarketSnapshot } from './market.ts'
export * from './gate.ts'
export {
  placeBodySchema,
  amendBodySchema,
  venueClientOrderId,
  cancelClientOrderId,
  amendClientOrderId,
  currentClientOrderId,
  orderIdFromClientId,
  parseClientOrderId,
  type PlaceBody,
  type AmendBody,
  type AmendState,
  type ParsedClientOrderId,
  type Order,
  type Reservation,
  type Side,
  type OrderType,
  type TimeInForce,
} from './orders.ts'
export { VenueReason } from './venue-reasons.ts'
export * from './events/index.ts'
