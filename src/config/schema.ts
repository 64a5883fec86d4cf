/**
 * The gateway's configuration as one valibot schema. Every field has an embedded default, so `{}` is a complete,
 * valid config: paper mode, the sim venue, data in ./data, HTTP on 127.0.0.1:8080, fsync durability, HS256 tokens
 * with a secret kept in the data directory, and a funded demo account `demo-1`.
 *
 * Objects are strict: an unknown key is an error, because a misspelt field silently falling back to its default is
 * exactly the kind of mistake a config file must not allow. Amounts are decimal strings (DESIGN §5).
 */

import * as v from 'valibot'
import { NON_NEGATIVE_INPUT_DECIMAL_PATTERN } from '../domain/decimal.ts'
import { CLOCK_TOLERANCE_SEC_MAX } from '../domain/revocations.ts'
import { KERNEL } from './kernel.ts'
import { POLICY } from './policy.ts'
import { VENUE } from './venues.ts'
import { VENUE_HEALTH, venueHealthDefaults, type VenueHealthConfig } from './venue-health.ts'
import { AUTO_STOP } from './auto-stop.ts'

export const MODES = ['paper', 'shadow', 'live'] as const
export type Mode = (typeof MODES)[number]

export const DURABILITIES = ['fsync', 'none'] as const
export type Durability = (typeof DURABILITIES)[number]

const MIB = 1024 * 1024
/** 1 PiB: above any disk a floor is meant for, and within what an environment override's 15 digits can give. */
const FREE_BYTES_MIN_MAX = 1024 ** 5

/** An integer in [min, max]; every way of failing gives the same message, which states the range. */
function integerIn(min: number, max: number) {
  const message = `expected an integer between ${min} and ${max}`
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message))
}

function text(message: string, pattern: RegExp) {
  return v.pipe(v.string(message), v.regex(pattern, message))
}

/** Same rule as src/domain/decimal's input: non-negative, at most 20 integer digits and 8 places, no exponent, sign or leading zero. */
const AMOUNT = text('expected a non-negative decimal string with at most 8 places and no leading zero, like "1000000" or "2.5"', NON_NEGATIVE_INPUT_DECIMAL_PATTERN)
const ID = text('expected an id of 1-64 characters [A-Za-z0-9._-], starting with a letter or digit', /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
const ASSET = text('expected an asset code of 2-12 characters [A-Z0-9]', /^[A-Z0-9]{2,12}$/)
/**
 * A NUL character passed (`.` matches it), and every file call on the path threw ERR_INVALID_ARG_VALUE: a data dir's
 * was blamed on auth.hs256Secret, an anchors file, archive or forensics dir's failed only when first written.
 */
const PATH = v.pipe(text('expected a non-empty path', /^.+$/), v.regex(/^[^\0]*$/, 'expected a path without a NUL character'))

function strict<TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.strictObject(entries)
}

const WAL = strict({
  durability: v.optional(v.picklist(DURABILITIES, 'expected "fsync" or "none"'), 'fsync'),
  /** A segment rolls once it reaches this size. */
  segmentBytesMax: v.optional(integerIn(MIB, 1024 * MIB), 64 * MIB),
  /**
   * Past this many files in the data dir's quarantine/ (bytes cut from torn tails, kept), /health says
   * log.quarantine.review_needed. Unset: 100 (no default value here, so a config without it keeps its digest).
   */
  quarantineFilesWarn: v.optional(integerIn(0, 1_000_000)),
  /** The same past this many bytes in quarantine/. Unset: 1 GiB. */
  quarantineBytesWarn: v.optional(integerIn(0, FREE_BYTES_MIN_MAX)),
})

const AUTH = strict({
  issuer: v.optional(text('expected a non-empty string', /^.+$/), 'egress'),
  audience: v.optional(text('expected a non-empty string', /^.+$/), 'egress-api'),
  clockToleranceSec: v.optional(integerIn(0, CLOCK_TOLERANCE_SEC_MAX), 5),
  /** HS256 tokens; unset means "on in paper mode only" (shadow needs it said). Live never accepts HS256 (checked after parsing). */
  hs256Enabled: v.optional(v.boolean('expected true or false')),
  /**
   * The HS256 secret (its UTF-8 bytes are the HMAC key). Unset: generated once into <dataDir>/auth/hs256.secret.
   * Never recorded in the log or the digest, only its hash.
   */
  hs256Secret: v.optional(v.pipe(v.string('expected a string'), v.minLength(32, 'expected at least 32 characters'))),
  /** A JWKS file with the public keys (EdDSA, ES256, RS256) trusted for bearer tokens, selected by `kid`. */
  jwksFile: v.optional(PATH),
  /** How often the JWKS file is re-read; a removed key stops verifying within this interval. */
  jwksReloadMs: v.optional(integerIn(1_000, 3_600_000), 30_000),
  /**
   * While reloads of the JWKS file fail, its last good keys stay trusted this long after the last good read; then
   * tokens by them get 401 (reason jwks_stale) until a reload succeeds. At least 2 × jwksReloadMs (checked after
   * parsing). Unset: 5 × jwksReloadMs (no default value here, so a config without it keeps its digest).
   */
  jwksStaleMaxMs: v.optional(integerIn(2_000, 86_400_000)),
  /** Verified tokens kept in memory until they expire; bounded so a token flood cannot grow the heap. */
  tokenCacheEntriesMax: v.optional(integerIn(0, 1_000_000), 10_000),
  /**
   * The longest lifetime `egress token` mints (its --ttl), in seconds, at most 30 days. Unset: 24 h (no default value
   * here, so a config without it keeps its digest).
   */
  tokenTtlSecMax: v.optional(integerIn(60, 2_592_000)),
  /**
   * True: /metrics and /health's details take an ops, auditor or admin token (or the scrape token), /openapi.json any
   * valid token, and /health without a token answers liveness, readiness and role only (src/http/auth/service-routes.ts).
   * Unset: off, as before the field existed (no default value, so a config without it keeps its digest).
   */
  protectServiceRoutes: v.optional(v.boolean('expected true or false')),
  /**
   * A file holding the scrape token: a static bearer secret a Prometheus scraper sends (its credentials_file), admitted
   * to /metrics and /health's details. Only with protectServiceRoutes true (checked after parsing); re-read every
   * jwksReloadMs. Only its path enters the digest, never the secret.
   */
  scrapeTokenFile: v.optional(PATH),
})

const BUCKET = strict({
  ratePerSec: integerIn(1, 1_000_000),
  burst: integerIn(1, 1_000_000),
})

const BACKPRESSURE = strict({
  account: v.optional(BUCKET, { ratePerSec: 100, burst: 200 }),
  bot: v.optional(BUCKET, { ratePerSec: 50, burst: 100 }),
  /** Orders accepted but not yet durable; beyond this new orders get 429 (cancels still pass). */
  inFlightMax: v.optional(integerIn(1, 1_000_000), 4_096),
  /**
   * GET requests under /v1 per caller (token `sub`); beyond it 429 with Retry-After. Unset: DEFAULT_READ_BUDGET. No
   * default value here, so a config without it keeps the digest it had before the field existed.
   */
  read: v.optional(BUCKET),
  /**
   * New orders and amends per venue×symbol, over every account and bot (seed 004 §6: a symbol bound beside the global,
   * bot and account ones), so one busy instrument cannot take the lanes every other one shares. Unset: no per-symbol
   * bound. No default value, so a config without it keeps its digest.
   */
  symbol: v.optional(BUCKET),
})

/** The read budget when config `backpressure.read` is unset: twice the default account rate of new orders. */
export const DEFAULT_READ_BUDGET = { ratePerSec: 200, burst: 400 } as const

const SSE = strict({
  /** Under 10 s: well inside the server's idle timeout (SERVER_IDLE_TIMEOUT_SEC, 30 s), or idle streams are cut. */
  heartbeatMs: v.optional(integerIn(100, 9_999), 5_000),
  /** Events queued for one slow subscriber before it is disconnected (at the next live batch; a batch is delivered whole). */
  subscriberBufferEventsMax: v.optional(integerIn(1, 1_000_000), 1_024),
})

export const TAMPER_RESPONSES = ['HALT', 'CANCEL_ONLY'] as const

/** Seals, self-check and tamper response (src/audit, DESIGN §7). */
const AUDIT = strict({
  /** The Ed25519 private JWK (`egress keygen`) that signs seals. Unset: the gateway appends no seals. */
  signingKeyFile: v.optional(PATH),
  /** The public JWK (or a JWKS with `{ keys }`) the self-check verifies seals with; unset: derived from the signing key. */
  publicKeyFile: v.optional(PATH),
  /** A seal is appended once this many records follow the last one... */
  sealEveryRecords: v.optional(integerIn(1, 100_000_000), 10_000),
  /** ...or once this long has passed (if anything was appended), and at clean shutdown. */
  sealEveryMs: v.optional(integerIn(1_000, 86_400_000), 60_000),
  /** How often the running gateway re-derives the chain and checks new seals (also once at start). */
  selfCheckEveryMs: v.optional(integerIn(1_000, 86_400_000), 30_000),
  /** What the gateway does when its self-check finds tampering. */
  tamperResponse: v.optional(v.picklist(TAMPER_RESPONSES, 'expected "HALT" or "CANCEL_ONLY"'), 'HALT'),
  /** Where forensics bundles are written. Unset: <dataDir>/forensics. */
  forensicsDir: v.optional(PATH),
  /**
   * Periodic anchors (src/audit/anchor-writer.ts): the JSON-lines file a seal's anchor is appended to. No default
   * value here (nor below), so a config that does not mention them keeps its digest: unset, <dataDir>/audit/anchors.jsonl.
   */
  anchorsFile: v.optional(PATH),
  /** At most one anchor per this many ms (after a seal); 0: none written. Unset: 300000. */
  anchorEveryMs: v.optional(integerIn(0, 86_400_000)),
  /**
   * The anchors file is renamed to FILE.1 (replacing the one before) when the next anchor would take it past this. Unset:
   * 64 MiB. At most 256 MiB: a file of anchors (each over 400 bytes) then stays within what --anchors reads (ANCHORS_MAX).
   */
  anchorsFileBytesMax: v.optional(integerIn(65_536, 268_435_456)),
})

export const COMPACTION_MODES = ['off', 'archive', 'delete'] as const

/**
 * Snapshots of the projections (kernel state, back office) and compaction of the log below them (src/runtime/snapshot).
 * Periodic snapshots are off unless asked for; one is always taken at clean shutdown unless `atShutdown` is false.
 */
const SNAPSHOTS = strict({
  /** False: no snapshot is written at all (periodic, on demand, at shutdown); the admin endpoint answers 409. */
  enabled: v.optional(v.boolean('expected true or false'), true),
  /** Restart from the newest valid snapshot (and replay the log after it); false: replay the whole log. */
  load: v.optional(v.boolean('expected true or false'), true),
  /** Snapshots retained; older ones are deleted once a new one is durable. */
  keep: v.optional(integerIn(1, 100), 3),
  /** Take one after this many durable records since the last; 0: off. */
  everyRecords: v.optional(integerIn(0, 1_000_000_000), 0),
  /** Take one every this many ms; 0: off, else at least 1000. */
  everyMs: v.optional(integerIn(0, 86_400_000), 0),
  atShutdown: v.optional(v.boolean('expected true or false'), true),
  /** After each snapshot, log segments wholly below the oldest retained one are archived, deleted, or left. */
  compaction: v.optional(v.picklist(COMPACTION_MODES, 'expected "off", "archive" or "delete"'), 'off'),
  /** Where compaction `archive` moves segments. Unset: <dataDir>/archive. */
  archiveDir: v.optional(PATH),
})

/**
 * The data directory's free space (src/http/disk/): read on a timer, and below `freeBytesMin` new orders and amends are
 * refused at intake (503 DISK_LOW) while cancels, flattens and reads pass, so a filling disk stops new risk before a
 * failed write ends the process (WAL_FATAL). Off unless set: a floor by default would refuse orders on a small test or
 * CI disk, and an existing config keeps its behaviour.
 */
const STORAGE = strict({
  /** Free bytes (what an unprivileged writer may use) below which new orders and amends are refused; 0: no floor. */
  freeBytesMin: v.optional(integerIn(0, FREE_BYTES_MIN_MAX), 0),
  /** How often the free space is read (and the refusal decided again). */
  checkEveryMs: v.optional(integerIn(100, 60_000), 5_000),
})

/**
 * Collector pacing (src/runtime/collector-pacing.ts): a full collection in a lull once the heap has grown (default: after
 * 1 s without a durable record, when the heap grew 25 % since the last), and, when asked for, young-generation
 * collections every `edenEveryMs` while records are being made durable (default: off).
 */
const COLLECTOR = strict({
  /**
   * How often the pacer looks to run a young-generation collection, in ms; 0 (the default): never, the collector's own
   * schedule; else at least 10. Off by default: under traffic with no lull it brings full collections sooner and makes
   * them stop the loop (README, Collector pacing).
   */
  edenEveryMs: v.optional(integerIn(0, 60_000), 0),
  /** Durable records since the last paced collection needed before the next. */
  edenAfterRecords: v.optional(integerIn(1, 1_000_000_000), 500),
  /** No durable record and no API request (under /v1) begun for this long (ms) is a lull, where a full collection may run; 0: none of ours, else at least 100. */
  fullWhenIdleMs: v.optional(integerIn(0, 3_600_000), 1_000),
  /** The heap's growth (%) over its lowest figure since serve's last full collection that makes one worth running in a lull. */
  fullAfterGrowthPct: v.optional(integerIn(1, 1_000), 25),
})

/** The executor's picks (src/runtime/executor.ts, lane3-share.ts). */
const EXECUTOR = strict({
  /**
   * Lane3's share: after this many picks of Lanes 1–2 (new orders, amends) in a row, Lane3's first read-back that can
   * start goes before them, so Unknown orders converge under sustained load. Unset: 8. The range is lane3-share.ts's.
   */
  lane3Every: v.optional(integerIn(1, 1_000)),
})

/** The back office (ledger, query model, reconciliation; src/backoffice). */
const BACKOFFICE = strict({
  /** How often reconcile runs on its own (env EGRESS_BACKOFFICE_RECONCILE_MS). */
  reconcileIntervalMs: v.optional(integerIn(100, 86_400_000), 10_000),
})

const ACCOUNT = strict({
  id: ID,
  /** Descriptive only: nothing reads it (an order names its venue; the funding is the account's, at every venue). */
  venue: v.optional(ID, 'sim'),
  /** Opening balances by asset, e.g. `{ "USD": "1000000", "BTC": "10" }`. */
  balances: v.optional(v.record(ASSET, AMOUNT), {}),
  /**
   * The account's trading policy (src/config/policy.ts), field by field over `defaultPolicy` and the paper defaults.
   * No default value: an account without it keeps the digest, and the policy, it had before the field existed.
   */
  policy: v.optional(POLICY),
})

export const DEFAULT_ACCOUNTS = [
  { id: 'demo-1', venue: 'sim', balances: { USD: '1000000', BTC: '10', ETH: '100' } },
]

export const CONFIG_SCHEMA = strict({
  mode: v.optional(v.picklist(MODES, 'expected "paper", "shadow" or "live"'), 'paper'),
  /** Log segments, snapshots and the local HS256 secret live here. Relative paths are from the working directory. */
  dataDir: v.optional(PATH, './data'),
  host: v.optional(text('expected a host name or IP address', /^[^\s/]+$/), '127.0.0.1'),
  port: v.optional(integerIn(1, 65_535), 8_080),
  /**
   * The venue an order without a `venue` goes to. Only "sim" (checked in load.ts): the order body's default is the
   * kernel's, and no other value was ever honoured. Kept so configs that state it keep their digest.
   */
  venue: v.optional(ID, 'sim'),
  wal: v.optional(WAL, {}),
  auth: v.optional(AUTH, {}),
  backpressure: v.optional(BACKPRESSURE, {}),
  sse: v.optional(SSE, {}),
  audit: v.optional(AUDIT, {}),
  accounts: v.optional(v.array(ACCOUNT, 'expected a list of accounts'), () => structuredClone(DEFAULT_ACCOUNTS)),
  /**
   * The policy settings of every account that does not set a field itself (src/config/policy.ts). No default value: a
   * config without it keeps its digest, and every account the paper policy.
   */
  defaultPolicy: v.optional(POLICY),
  /**
   * Venues besides the built-in sim (FIX sessions, src/config/venues.ts), which stays available as "sim", and at most
   * one entry of type "sim" setting the sim's instruments (src/config/sim-venue.ts). No default value on purpose: a
   * config that does not mention venues keeps the digest it had before this field existed.
   */
  venues: v.optional(v.array(VENUE, 'expected a list of venues')),
  /** Snapshots and compaction. No default value either: a config without it keeps its digest (defaults apply). */
  snapshots: v.optional(SNAPSHOTS),
  /** Back office. No default value, for the same reason. */
  backoffice: v.optional(BACKOFFICE),
  /** Collector pacing. No default value: a config without it keeps its digest (and paces with the defaults). */
  collector: v.optional(COLLECTOR),
  /** The executor's picks. No default value: a config without it keeps its digest (and the defaults). */
  executor: v.optional(EXECUTOR),
  /** Kernel parameters (src/config/kernel.ts), each optional; no default value, so a config without it keeps its digest. */
  kernel: v.optional(KERNEL),
  /** Venue health scoring and overrides (src/config/venue-health.ts). No default value: a config without it keeps its digest. */
  venueHealth: v.optional(VENUE_HEALTH),
  /** The data directory's free-space floor (STORAGE). No default value: a config without it keeps its digest, and no floor. */
  storage: v.optional(STORAGE),
  /**
   * Circuit breakers that engage the kill switch on their own (src/config/auto-stop.ts, src/runtime/auto-stop.ts). No
   * default value: a config without it keeps its digest, and no breaker runs.
   */
  autoStop: v.optional(AUTO_STOP),
})

/** Fields whose values are secret: never echoed in errors, only their hash enters the digest. */
export const SECRET_PATHS: ReadonlySet<string> = new Set(['auth.hs256Secret'])

type Parsed = v.InferOutput<typeof CONFIG_SCHEMA>

/** The effective configuration: parsed, defaulted and cross-checked. `auth.hs256Enabled` is always resolved. */
export type Config = Parsed & { auth: Parsed['auth'] & { hs256Enabled: boolean } }
export type AuthConfig = Config['auth']
export type AccountConfig = Config['accounts'][number]
export type AuditConfig = Config['audit']
export type SnapshotsConfig = v.InferOutput<typeof SNAPSHOTS>
export type BackOfficeConfig = v.InferOutput<typeof BACKOFFICE>
export type StorageConfig = v.InferOutput<typeof STORAGE>
export type CollectorConfig = v.InferOutput<typeof COLLECTOR>

/** The snapshot settings in effect: the config's, or every default when it has no `snapshots` section. */
export function snapshotsConfigOf(config: Config): SnapshotsConfig {
  return config.snapshots ?? v.parse(SNAPSHOTS, {})
}

/** The read budget in effect (config `backpressure.read`, or DEFAULT_READ_BUDGET). */
export function readBudgetOf(backpressure: Config['backpressure']): { ratePerSec: number; burst: number } {
  return backpressure.read ?? { ...DEFAULT_READ_BUDGET }
}

/** The venue health settings in effect: the config's, or every default. */
export function venueHealthConfigOf(config: Config): VenueHealthConfig {
  return config.venueHealth ?? venueHealthDefaults()
}

/** The back-office settings in effect. */
export function backOfficeConfigOf(config: Config): BackOfficeConfig {
  return config.backoffice ?? v.parse(BACKOFFICE, {})
}

/** The collector pacing in effect: the config's, or every default. */
export function collectorConfigOf(config: Pick<Config, 'collector'>): CollectorConfig {
  return config.collector ?? v.parse(COLLECTOR, {})
}

/** The free-space settings in effect: the config's, or every default (no floor, read every 5 s). */
export function storageConfigOf(config: Pick<Config, 'storage'>): StorageConfig {
  return config.storage ?? v.parse(STORAGE, {})
}
