/**
 * `venues: [...]` in the config: FIX venues beside the built-in sim — `fix`, a FIX 4.2/4.4 initiator session
 * (src/venues/fix) with the instruments egress may trade there — and at most one `sim` entry, the built-in sim venue's
 * own instruments (sim-venue.ts).
 *
 * Market data: a FIX order-entry session carries no prices, and this build has no market-data feed. The data-health
 * guard needs a reference price per instrument, so a FIX venue must say where its prices come from, explicitly:
 * `marketData: "static"` — each instrument's `referencePrice` is served as a fresh observation on every read. That is
 * for test venues (a QuickFIX executor, a broker's UAT) only: it turns the staleness and jump checks into no-ops and
 * the price band into a band around a fixed number. It is refused in live mode (load.ts).
 */

import * as v from 'valibot'
import { AMOUNT, ID, INSTRUMENT_FIELDS, integerIn } from './instrument-fields.ts'
import { SIM_VENUE } from './sim-venue.ts'

const MESSAGE_COMP_ID = 'expected 1-64 printable ASCII characters'
const COMP_ID = v.pipe(v.string(MESSAGE_COMP_ID), v.regex(/^[\x21-\x7e]{1,64}$/, MESSAGE_COMP_ID))
const MESSAGE_HOST = 'expected a host name or IP address'
const HOST = v.pipe(v.string(MESSAGE_HOST), v.regex(/^[^\s/]{1,253}$/, MESSAGE_HOST))
const MESSAGE_TIME = 'expected "HH:MM:SS" (UTC)'
const TIME_UTC = v.pipe(v.string(MESSAGE_TIME), v.regex(/^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$/, MESSAGE_TIME))

/** The start's wait for a FIX session's Logon when the venue's `logonWaitMs` is unset. */
export const FIX_LOGON_WAIT_MS_DEFAULT = 5_000
/** Bound on `logonWaitMs`: a start holds intake closed (and bootstrap's reconcile) for that long at most per venue. */
export const FIX_LOGON_WAIT_MS_MAX = 60_000

/** Bound on a FIX venue's `openOrdersMax`: every order a mass status answer lists is held in memory until it ends. */
export const FIX_OPEN_ORDERS_MAX_LIMIT = 1_000_000

/** Bounds on a FIX venue's `messageBytesMax`: the connection's read buffer is sized from it (serve-fix.ts). */
export const FIX_MESSAGE_BYTES_MIN = 1_024
export const FIX_MESSAGE_BYTES_MAX_LIMIT = 4 * 1024 * 1024

export const FIX_BEGIN_STRINGS = ['FIX.4.2', 'FIX.4.4'] as const
export const FIX_RESET_ON_LOGON = ['always', 'never'] as const
export const VENUE_MARKET_DATA = ['static'] as const

/** As the config's other paths (schema.ts PATH): a number was "Invalid type: Expected string but received 5", a NUL passed. */
const CA_FILE = v.pipe(v.string('expected a non-empty path'), v.minLength(1, 'expected a non-empty path'), v.regex(/^[^\0]*$/, 'expected a path without a NUL character'))

const INSTRUMENT = v.strictObject({
  ...INSTRUMENT_FIELDS,
  /** With `marketData: "static"`: the reference price the data-health guard sees, always fresh. Test venues only. */
  referencePrice: v.optional(AMOUNT),
})

export const FIX_VENUE = v.strictObject({
  type: v.literal('fix', 'expected "fix"'),
  /** The venue name orders carry (`"venue"` in POST /v1/orders) and the log's records name. Not "sim". */
  name: ID,
  host: HOST,
  port: integerIn(1, 65_535),
  beginString: v.picklist(FIX_BEGIN_STRINGS, 'expected "FIX.4.2" or "FIX.4.4"'),
  senderCompId: COMP_ID,
  targetCompId: COMP_ID,
  heartbeatIntervalSeconds: v.optional(integerIn(1, 3_600), 30),
  /** `never`: numbers carry on across logons (kept in the log). `always`: ResetSeqNumFlag=Y on every Logon. */
  resetOnLogon: v.optional(v.picklist(FIX_RESET_ON_LOGON, 'expected "always" or "never"'), 'never'),
  /** A daily window (UTC) in which the session may be logged on; unset: always. */
  schedule: v.optional(v.strictObject({ startUtc: TIME_UTC, endUtc: TIME_UTC })),
  /** TLS to the venue; unset: plain TCP. */
  tls: v.optional(v.strictObject({ servername: v.optional(HOST), caFile: v.optional(CA_FILE) })),
  /** Wait for an answer to place/cancel/amend before the outcome is `unknown` (and the kernel reconciles). */
  requestTimeoutMs: v.optional(integerIn(100, 600_000), 10_000),
  /** Wait for an OrderStatusRequest answer. */
  statusTimeoutMs: v.optional(integerIn(100, 600_000), 5_000),
  /**
   * FIX 4.2 (and 4.4 with `statusReqIdEchoed: false`): an OrderStatusRequest still unanswered this long is written off
   * and the order's next query may go; at least `statusTimeoutMs`. Unset: 12 × statusTimeoutMs, and not in the digest.
   */
  statusOwedWriteOffMs: v.optional(integerIn(100, 3_600_000)),
  /** FIX 4.4: the venue echoes OrdStatusReqID (790) on status answers. Unset: true, and not in the digest. */
  statusReqIdEchoed: v.optional(v.boolean('expected true or false')),
  /** The counterpart answers OrderMassStatusRequest (FIX 4.4). */
  massStatus: v.optional(v.boolean('expected true or false'), false),
  /**
   * With `massStatus`: the open orders one mass status answer may list; one more ends the answer `unknown`
   * (fix_open_orders_too_many), since a list cut short would read as orders the venue does not hold. Unset: the
   * adapter's default, 100,000 (src/venues/fix/venue-options.ts FIX_OPEN_ORDERS_MAX), and not in the digest.
   */
  openOrdersMax: v.optional(integerIn(1, FIX_OPEN_ORDERS_MAX_LIMIT)),
  /**
   * How long a start waits for this session's Logon before bootstrap goes on without it (intake stays closed while it
   * waits); 0: no wait. Unset: FIX_LOGON_WAIT_MS_DEFAULT. No default here, so configs that do not set it keep their
   * digest.
   */
  logonWaitMs: v.optional(integerIn(0, FIX_LOGON_WAIT_MS_MAX)),
  reconnectDelayMsMin: v.optional(integerIn(1, 3_600_000), 500),
  reconnectDelayMsMax: v.optional(integerIn(1, 3_600_000), 30_000),
  /*
   * The session's bounds (src/venues/fix/session-options.ts), each unset: the session's default, and not in the digest.
   * messageBytesMax: the largest message held whole (default 64 KiB; one up to 16 times larger is read through and
   * refused, a larger one loses framing). queuedMessagesMax: messages held above a sequence gap (default 10,000; one
   * more disconnects). writeBufferBytesMax: bytes the venue has not read yet (default 4 MiB; beyond it the session
   * disconnects). garbledMessagesMax: garbled messages in a row before the connection is dropped (default 3).
   * sendingTimeToleranceMs: how far a message's SendingTime may be from our clock (default 120,000, QuickFIX's
   * MaxLatency).
   */
  messageBytesMax: v.optional(integerIn(FIX_MESSAGE_BYTES_MIN, FIX_MESSAGE_BYTES_MAX_LIMIT)),
  queuedMessagesMax: v.optional(integerIn(1, 1_000_000)),
  writeBufferBytesMax: v.optional(integerIn(65_536, 1_073_741_824)),
  garbledMessagesMax: v.optional(integerIn(1, 1_000)),
  sendingTimeToleranceMs: v.optional(integerIn(1_000, 86_400_000)),
  /** Where reference prices come from; required, so a venue with no price feed is never silently unguarded. */
  marketData: v.picklist(VENUE_MARKET_DATA, 'expected "static" (per-instrument referencePrice; test venues only)'),
  instruments: v.pipe(v.array(INSTRUMENT, 'expected a list of instruments'), v.minLength(1, 'expected at least one instrument')),
})

/** A `venues[]` entry: a FIX session, or the built-in sim venue's settings (sim-venue.ts). */
export const VENUE = v.variant('type', [FIX_VENUE, SIM_VENUE], 'expected a venue with type "fix" or "sim"')

export type VenueConfig = v.InferOutput<typeof VENUE>
export type FixVenueConfig = v.InferOutput<typeof FIX_VENUE>
export type VenueInstrumentConfig = FixVenueConfig['instruments'][number]

/** The FIX venues of config `venues` (the sim's entry, if any, left out). */
export function fixVenueConfigs(venues: readonly VenueConfig[] | undefined): FixVenueConfig[] {
  return (venues ?? []).filter((venue): venue is FixVenueConfig => venue.type === 'fix')
}
