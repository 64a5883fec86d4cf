/**
 * What a JSONL venue may send (the wire format in codec.ts), as valibot schemas built once when the module loads. The
 * client checks every message with `safeParse` on these schemas and never builds one per message: it reads thousands
 * of messages per second in benchmarks.
 *
 * Amounts are bigint units here, because decodeLine's `$units` reviver already made them so; the event schemas
 * (domain/events) read the same amounts as decimal strings. Objects are strict: the wire format is egress's own
 * (server.ts), so a member this client does not know means the two sides disagree about the protocol, and the message
 * is refused rather than half understood — except a price entry's (price-entry.ts), read for the members it needs.
 */

import * as v from 'valibot'
import type { Units } from '../../domain/decimal.ts'
import type { BookTouch } from '../../domain/market.ts'
import { orderIdFromClientId } from '../../domain/orders.ts'
import { idSchema, msSchema, sideSchema } from '../../domain/schema-kit.ts'
import {
  bigUnitsSchema as unitsSchema,
  checkVenueReport,
  describeIssue,
  nonNegativeBigUnitsSchema as nonNegativeUnitsSchema,
  PARSE_CONFIG,
  positiveBigUnitsSchema as positiveUnitsSchema,
  truncateDetail as truncate,
  venueReportSchema,
} from '../../domain/venue-report-schema.ts'
import type { ExecutionReport, PlaceAck, VenueBalance, VenueOrder, VenueOutcome, VenueTrade } from '../adapter.ts'
import { priceEntryOf, priceEntrySchema, type PriceEntry } from './price-entry.ts'

export { describeIssue, PARSE_CONFIG, positiveUnitsSchema, priceEntrySchema, type PriceEntry }

/**
 * A report the client accepts: the domain's venue report schema (src/domain/venue-report-schema.ts), typed here as
 * the adapters' ExecutionReport, so tsc fails when the two drift apart.
 */
export const reportSchema: v.GenericSchema<unknown, ExecutionReport> = venueReportSchema

const placeAckSchema: v.GenericSchema<unknown, PlaceAck> = v.strictObject({ venueOrderId: v.string() })

const acceptedSchema: v.GenericSchema<unknown, { accepted: true }> = v.strictObject({ accepted: v.literal(true) })

/** The members a venue order and a venue trade both carry: whose order, on what, which way, how much. */
const ORDER_REF_ENTRIES = {
  clientOrderId: v.string(),
  venueOrderId: v.string(),
  account: v.string(),
  symbol: v.string(),
  side: sideSchema,
  qty: positiveUnitsSchema,
}

const venueOrderSchema: v.GenericSchema<unknown, VenueOrder> = v.strictObject({
  ...ORDER_REF_ENTRIES,
  price: v.exactOptional(positiveUnitsSchema),
  cumQty: nonNegativeUnitsSchema,
  status: v.picklist(['open', 'partially_filled', 'filled', 'canceled', 'rejected', 'expired']),
})

const venueTradeSchema: v.GenericSchema<unknown, VenueTrade> = v.strictObject({
  execId: v.string(),
  ...ORDER_REF_ENTRIES,
  price: positiveUnitsSchema,
  // A rebate is a negative fee.
  fee: unitsSchema,
  feeAsset: v.string(),
  liquidity: v.picklist(['maker', 'taker']),
  venueTimeMs: msSchema,
})

// A balance may be negative (a short position, fees owed).
const venueBalanceSchema: v.GenericSchema<unknown, VenueBalance> = v.strictObject({ account: v.string(), asset: v.string(), total: unitsSchema })

const rejectedSchema = v.strictObject({ kind: v.literal('rejected'), reason: v.string() })
const retryableSchema = v.strictObject({ kind: v.literal('retryable'), reason: v.string(), retryAfterMs: msSchema })
const unknownSchema = v.strictObject({ kind: v.literal('unknown'), reason: v.string() })

/** A VenueOutcome (adapter.ts) whose `ok` value is read by `value`. */
function outcomeSchema<T>(value: v.GenericSchema<unknown, T>): v.GenericSchema<unknown, VenueOutcome<T>> {
  return v.variant('kind', [v.strictObject({ kind: v.literal('ok'), value }), rejectedSchema, retryableSchema, unknownSchema])
}

/** What each op answers, as the VenueAdapter methods declare it. */
export interface OpOutcomes {
  place: VenueOutcome<PlaceAck>
  cancel: VenueOutcome<{ accepted: true }>
  amend: VenueOutcome<{ accepted: true }>
  orderStatus: VenueOutcome<VenueOrder | null>
  openOrders: VenueOutcome<VenueOrder[]>
  trades: VenueOutcome<VenueTrade[]>
  balances: VenueOutcome<VenueBalance[]>
}

export type OutcomeOp = keyof OpOutcomes

/**
 * Every op the client sends; `inspect` answers the venue's own view (tests and drills), taken as it comes; `hello`
 * names the connection (its answer carries nothing).
 */
export type JsonlOp = OutcomeOp | 'inspect' | 'hello'

/** The schema each op's answer must fit; typed against OpOutcomes, so a schema that drifts from adapter.ts does not compile. */
export const OUTCOME_SCHEMAS: { readonly [Op in OutcomeOp]: v.GenericSchema<unknown, OpOutcomes[Op]> } = {
  place: outcomeSchema(placeAckSchema),
  cancel: outcomeSchema(acceptedSchema),
  amend: outcomeSchema(acceptedSchema),
  orderStatus: outcomeSchema(v.nullable(venueOrderSchema)),
  openOrders: outcomeSchema(v.array(venueOrderSchema)),
  trades: outcomeSchema(v.array(venueTradeSchema)),
  balances: outcomeSchema(v.array(venueBalanceSchema)),
}

export const INSPECT_SCHEMA: v.GenericSchema<unknown, unknown> = v.unknown()

const answerMessageSchema = v.strictObject({ id: v.pipe(v.number(), v.safeInteger(), v.minValue(1)), result: v.unknown() })
// The report itself is checked by checkVenueReport, which marks it so the gateway does not check it again.
const reportMessageSchema = v.strictObject({ report: v.unknown() })
const pricesMessageSchema = v.strictObject({ prices: v.array(v.unknown()) })
const infoMessageSchema = v.strictObject({ info: v.unknown() })

/** A decoded line, sorted by what it is; `problem` names the path of the first issue and what was wrong there. */
export type VenueMessage =
  | { kind: 'answer'; id: number; result: unknown }
  | { kind: 'report'; report: ExecutionReport }
  /**
   * The valid entries; `dropped` counts the others, `problem` describes the first of them (null when none);
   * `unknownMembers`: the paths of members the valid entries carry that this client does not read (price-entry.ts).
   */
  | { kind: 'prices'; prices: PriceEntry[]; dropped: number; problem: string | null; unknownMembers: string[] }
  | { kind: 'info'; info: unknown }
  /** `readBack`: for a report, the client order ids it names that are egress's (readBackOf); absent when none. */
  | { kind: 'invalid'; problem: string; readBack?: string[] }

/** Sorts a decoded line by its member (`id`, `report`, `prices` or `info`) and checks it; never throws. */
export function readVenueMessage(message: unknown): VenueMessage {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { kind: 'invalid', problem: `expected a JSON object, got ${preview(message)}` }
  }
  if ('id' in message) {
    const parsed = v.safeParse(answerMessageSchema, message, PARSE_CONFIG)
    return parsed.success ? { kind: 'answer', id: parsed.output.id, result: parsed.output.result } : invalid(parsed.issues)
  }
  if ('report' in message) {
    const parsed = v.safeParse(reportMessageSchema, message, PARSE_CONFIG)
    if (!parsed.success) return invalid(parsed.issues)
    const checked = checkVenueReport(parsed.output.report, 'report')
    return checked.ok ? { kind: 'report', report: checked.report } : { kind: 'invalid', problem: checked.problem, ...readBackOf(parsed.output.report) }
  }
  if ('prices' in message) {
    const parsed = v.safeParse(pricesMessageSchema, message, PARSE_CONFIG)
    return parsed.success ? readPrices(parsed.output.prices) : invalid(parsed.issues)
  }
  if ('info' in message) {
    const parsed = v.safeParse(infoMessageSchema, message, PARSE_CONFIG)
    return parsed.success ? { kind: 'info', info: parsed.output.info } : invalid(parsed.issues)
  }
  return { kind: 'invalid', problem: truncate(`expected a member id, report, prices or info; got ${preview(Object.keys(message))}`) }
}

/**
 * The client order ids a refused report names (clientOrderId, origClientOrderId) that are egress's (they parse to an
 * order id): what it said — a fill, say — is lost, as the venue never sends it again, so those orders are read back.
 * Also used for a well-formed report naming another venue than the connection (client.ts).
 */
export function readBackOf(report: unknown): { readBack?: string[] } {
  if (typeof report !== 'object' || report === null) return {}
  const named = new Set<string>()
  for (const member of ['clientOrderId', 'origClientOrderId']) {
    const id = Object.hasOwn(report, member) ? (report as Record<string, unknown>)[member] : undefined
    if (typeof id === 'string' && orderIdFromClientId(id) !== null) named.add(id)
  }
  return named.size === 0 ? {} : { readBack: [...named] }
}

/** Checks an answer's result against the schema of the op it answers: the value, or the first issue's path and text. */
export function readResult<R>(schema: v.GenericSchema<unknown, R>, result: unknown): { ok: true; value: R } | { ok: false; problem: string } {
  const parsed = v.safeParse(schema, result, PARSE_CONFIG)
  return parsed.success ? { ok: true, value: parsed.output } : { ok: false, problem: describeIssue(parsed.issues[0], 'result') }
}

function readPrices(entries: unknown[]): VenueMessage {
  const prices: PriceEntry[] = []
  const unknownMembers: string[] = []
  let problem: string | null = null
  for (let index = 0; index < entries.length; index++) {
    const parsed = v.safeParse(priceEntrySchema, entries[index], PARSE_CONFIG)
    if (parsed.success) {
      const read = priceEntryOf(parsed.output)
      prices.push(read.entry)
      unknownMembers.push(...read.unknownMembers)
    } else problem ??= describeIssue(parsed.issues[0], `prices.${index}`)
  }
  return { kind: 'prices', prices, dropped: entries.length - prices.length, problem, unknownMembers }
}

function invalid(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): VenueMessage {
  return { kind: 'invalid', problem: describeIssue(issues[0], '') }
}

/** A short, single-line rendering of a venue value for a log line (bigint as the wire writes it). */
export function preview(value: unknown): string {
  const text = JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? { $units: inner.toString() } : inner))
  return truncate(text === undefined ? String(value) : text)
}
