/**
 * Per-account trading policy in the config file (seed 004 §9 "policy (bot/user) enforces new/cancel/live switch", §14
 * safe defaults): `defaultPolicy` at the top level and `accounts[].policy`, each a strict object whose fields are all
 * optional. An account's policy is, field by field, its own setting, else `defaultPolicy`'s, else the built-in paper
 * policy's (src/runtime/paper.ts paperPolicy: every configured instrument, market orders off, notional ≤ 1000000, 1000
 * open orders, live off, no expiry, trader and bot may place, self-trade refused). Neither section nor any field has a
 * default value in the parsed config, so a config that does not write them keeps its digest (selfTrade included: its
 * default is applied by paperPolicy, after the digest, and recorded in `kernel.configured`).
 *
 * Instrument keys are `venue:symbol` and must name an instrument the config serves (the sim venue's — its `venues[]`
 * entry's instruments, else the built-in ones — or a FIX venue's); validity bounds are ISO 8601 times with a zone
 * (`2026-01-01T00:00:00Z`) or epoch ms.
 */

import * as v from 'valibot'
import { PRINCIPAL_KINDS, SELF_TRADE_SETTINGS, type PolicySettings } from '../domain/accounts.ts'
import { NON_NEGATIVE_INPUT_DECIMAL_PATTERN, parseDecimal } from '../domain/decimal.ts'
import { defaultSimInstruments, instrumentKey } from '../domain/instruments.ts'
import type { ConfigIssue } from './config-error.ts'
import { SIM_VENUE_NAME, simInstrumentConfigs } from './sim-venue.ts'

/** The latest instant a Date (and the kernel's ms fields) can hold: 8.64e15 ms, year 275760. */
export const EPOCH_MS_MAX = 8_640_000_000_000_000

const KEY_MESSAGE = 'expected an instrument key "venue:symbol", like "sim:BTC-USD"'
const INSTRUMENT_KEY = v.pipe(v.string(KEY_MESSAGE), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, KEY_MESSAGE))

/** Same rule as src/domain/decimal's input, and positive: a notional cap of 0 is written as an empty `instruments` list instead. */
const NOTIONAL_MESSAGE = 'expected a positive decimal string with at most 8 places and no leading zero, like "250000" or "1000.5"'
const NOTIONAL = v.pipe(v.string(NOTIONAL_MESSAGE), v.regex(NON_NEGATIVE_INPUT_DECIMAL_PATTERN, NOTIONAL_MESSAGE), v.regex(/[1-9]/, NOTIONAL_MESSAGE))

const TIME_MESSAGE = 'expected an ISO 8601 time with a zone, like "2026-01-01T00:00:00Z", or epoch milliseconds (an integer ≥ 0)'
/** An ISO time (checked to be a real instant by isoTimeMs) or epoch ms. */
const INSTANT = v.union(
  [
    v.pipe(v.number(TIME_MESSAGE), v.integer(TIME_MESSAGE), v.minValue(0, TIME_MESSAGE), v.maxValue(EPOCH_MS_MAX, TIME_MESSAGE)),
    v.pipe(v.string(TIME_MESSAGE), v.check((text) => isoTimeMs(text) !== null, TIME_MESSAGE)),
  ],
  TIME_MESSAGE,
)

const KIND_MESSAGE = `expected one of ${PRINCIPAL_KINDS.map((kind) => `"${kind}"`).join(', ')}`
const SELF_TRADE_MESSAGE = `expected one of ${SELF_TRADE_SETTINGS.map((setting) => `"${setting}"`).join(', ')}`

export const POLICY = v.strictObject({
  /** Instrument keys the account may trade; unset: every instrument the config serves. */
  instruments: v.optional(v.array(INSTRUMENT_KEY, 'expected a list of instrument keys')),
  /** Instrument keys on which market orders are allowed (each also in `instruments`); unset: none (§14). */
  marketOrderInstruments: v.optional(v.array(INSTRUMENT_KEY, 'expected a list of instrument keys')),
  /** The largest order notional (quantity × limit price, or a market order's worst price), in the quote asset. */
  maxOrderNotional: v.optional(NOTIONAL),
  /** Orders of the account open at once (accepted and not yet ended); 0 refuses every new order. */
  maxOpenOrders: v.optional(v.pipe(v.number('expected an integer between 0 and 1000000'), v.integer('expected an integer between 0 and 1000000'), v.minValue(0, 'expected an integer between 0 and 1000000'), v.maxValue(1_000_000, 'expected an integer between 0 and 1000000'))),
  /** Whether the account may trade while the gateway is live (one of the live prerequisites). */
  liveAllowed: v.optional(v.boolean('expected true or false')),
  /** The policy allows nothing before this instant… */
  validFrom: v.optional(INSTANT),
  /** …nor from this one on (§15 check 3: policy ALLOW within its validity). */
  validUntil: v.optional(INSTANT),
  /**
   * Which kinds of principal may place new orders (and amend): a token holding the `bot` role is a bot, any other
   * trading principal a trader. Cancels are never refused by it. Unset: both; `[]`: nobody (cancels still pass).
   */
  newOrdersBy: v.optional(v.array(v.picklist(PRINCIPAL_KINDS, KIND_MESSAGE), 'expected a list of principal kinds')),
  /**
   * Self-trade prevention: "reject" refuses an order that would cross an open order of the same account on the other
   * side of the instrument (SELF_TRADE_PREVENTED); "allow" sends it (a market maker quoting both sides that accepts
   * the venue's own self-trade rules). Unset: "reject" (paperPolicy).
   */
  selfTrade: v.optional(v.picklist(SELF_TRADE_SETTINGS, SELF_TRADE_MESSAGE)),
})

export type PolicyConfig = v.InferOutput<typeof POLICY>

/** What cross-field checks read of the parsed config. */
interface PolicySources {
  defaultPolicy?: PolicyConfig | undefined
  accounts: readonly { policy?: PolicyConfig | undefined }[]
  venues?: readonly { type: string; name: string; instruments?: readonly { symbol: string }[] | undefined }[] | undefined
}

/**
 * The instrument keys the config serves: the sim venue's (its `venues[]` entry's instruments, else the built-in ones)
 * and every FIX venue's.
 */
export function servedInstrumentKeys(venues: PolicySources['venues']): Set<string> {
  const sim = simInstrumentConfigs(venues) ?? defaultSimInstruments()
  const keys = new Set(sim.map((instrument) => instrumentKey(SIM_VENUE_NAME, instrument.symbol)))
  for (const venue of venues ?? []) {
    if (venue.type === 'sim') continue
    for (const instrument of venue.instruments ?? []) keys.add(instrumentKey(venue.name, instrument.symbol))
  }
  return keys
}

/** Cross-field rules: keys that name served instruments, market keys among the allowed ones, a window that is not empty. */
export function policyIssues(parsed: PolicySources): ConfigIssue[] {
  const served = servedInstrumentKeys(parsed.venues)
  const issues: ConfigIssue[] = []
  if (parsed.defaultPolicy !== undefined) issues.push(...fieldIssues(parsed.defaultPolicy, 'defaultPolicy', served), ...mergedIssues(parsed.defaultPolicy, 'defaultPolicy', served))
  parsed.accounts.forEach((account, index) => {
    if (account.policy === undefined) return
    const at = `accounts.${index}.policy`
    // The merged policy: an account's instruments may drop a market key defaultPolicy enables, or its window may end
    // before defaultPolicy's starts.
    issues.push(...fieldIssues(account.policy, at, served), ...mergedIssues({ ...parsed.defaultPolicy, ...account.policy }, at, served))
  })
  return issues
}

/** Rules within one section's own fields: served, distinct instrument keys; distinct principal kinds. */
function fieldIssues(policy: PolicyConfig, at: string, served: ReadonlySet<string>): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  for (const field of ['instruments', 'marketOrderInstruments'] as const) {
    const seen = new Set<string>()
    ;(policy[field] ?? []).forEach((key, index) => {
      if (!served.has(key)) issues.push({ path: `${at}.${field}.${index}`, message: `expected an instrument the config serves (${[...served].join(', ')}), got ${JSON.stringify(key)}` })
      else if (seen.has(key)) issues.push({ path: `${at}.${field}.${index}`, message: `duplicate instrument key ${JSON.stringify(key)}` })
      seen.add(key)
    })
  }
  const kinds = policy.newOrdersBy ?? []
  if (new Set(kinds).size !== kinds.length) issues.push({ path: `${at}.newOrdersBy`, message: `expected each principal kind at most once, got ${JSON.stringify(kinds)}` })
  return issues
}

/** Rules between the fields of one effective policy (a section's own, or an account's merged over defaultPolicy). */
function mergedIssues(policy: PolicyConfig, at: string, served: ReadonlySet<string>): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const allowed = new Set(policy.instruments ?? served)
  for (const key of policy.marketOrderInstruments ?? []) {
    if (served.has(key) && !allowed.has(key)) issues.push({ path: `${at}.marketOrderInstruments`, message: `${JSON.stringify(key)} is not in the policy's instruments: market orders on it could never be placed` })
  }
  const fromMs = instantMs(policy.validFrom) ?? 0
  const untilMs = instantMs(policy.validUntil) ?? EPOCH_MS_MAX
  if (untilMs <= fromMs) issues.push({ path: `${at}.validUntil`, message: `expected a time after validFrom (${JSON.stringify(policy.validFrom ?? 0)}), got ${JSON.stringify(policy.validUntil ?? EPOCH_MS_MAX)}` })
  return issues
}

/**
 * The policy settings per account id, for the accounts whose policy the config sets (by `accounts[].policy` or
 * `defaultPolicy`); an account absent from the map keeps the built-in paper policy. Call on a config that parsed.
 */
export function accountPolicySettings(config: { defaultPolicy?: PolicyConfig | undefined; accounts: readonly { id: string; policy?: PolicyConfig | undefined }[] }): Map<string, PolicySettings> {
  const settings = new Map<string, PolicySettings>()
  for (const account of config.accounts) {
    if (config.defaultPolicy === undefined && account.policy === undefined) continue
    settings.set(account.id, settingsOf({ ...config.defaultPolicy, ...account.policy }))
  }
  return settings
}

function settingsOf(policy: PolicyConfig): PolicySettings {
  const settings: PolicySettings = {}
  if (policy.instruments !== undefined) settings.instruments = [...policy.instruments]
  if (policy.marketOrderInstruments !== undefined) settings.marketOrderInstruments = [...policy.marketOrderInstruments]
  if (policy.maxOrderNotional !== undefined) settings.maxOrderNotional = parseDecimal(policy.maxOrderNotional)
  if (policy.maxOpenOrders !== undefined) settings.maxOpenOrders = policy.maxOpenOrders
  if (policy.liveAllowed !== undefined) settings.liveAllowed = policy.liveAllowed
  const fromMs = instantMs(policy.validFrom)
  if (fromMs !== null) settings.validFromMs = fromMs
  const untilMs = instantMs(policy.validUntil)
  if (untilMs !== null) settings.validUntilMs = untilMs
  if (policy.newOrdersBy !== undefined) settings.newOrdersBy = [...policy.newOrdersBy]
  if (policy.selfTrade !== undefined) settings.selfTrade = policy.selfTrade
  return settings
}

function instantMs(value: string | number | undefined): number | null {
  if (value === undefined) return null
  return typeof value === 'number' ? value : isoTimeMs(value)
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/

/**
 * Epoch ms of an ISO 8601 time with a zone (`Z` or `±HH:MM`), or null when it is not one or names no real instant
 * (February 30th, hour 24, an offset of 25 hours). Parsed by hand rather than Date.parse, which accepts more shapes
 * and rolls invalid dates over.
 */
export function isoTimeMs(text: string): number | null {
  const match = ISO_TIME.exec(text)
  if (match === null) return null
  const part = (index: number): number => Number(match[index] ?? 0)
  const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)]
  const millis = match[7] === undefined ? 0 : Number(match[7].padEnd(3, '0'))
  const [offsetHours, offsetMinutes] = [part(9), part(10)]
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null
  const date = new Date(0)
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, millis)
  if (date.getUTCDate() !== day) return null
  const offsetMs = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  const ms = date.getTime() - offsetMs
  return ms >= 0 && ms <= EPOCH_MS_MAX ? ms : null
}
