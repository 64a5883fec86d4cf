/**
 * Loading the effective config: embedded defaults, then an optional JSON file, then environment overrides.
 * Every failure is a ConfigError whose message names the field and what was expected, on one line.
 */

import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs'
import { dirname, resolve as absolute } from 'node:path'
import * as v from 'valibot'
import { readConfigFile } from './config-file.ts'
import { ConfigError, type ConfigIssue } from './config-error.ts'
import { misspeltEnvNames, OTHER_ENV_NAMES } from './env-names.ts'
import { venueTimeoutMsMax } from './kernel.ts'
import { defaultKernelParams } from '../domain/kernel-config.ts'
import { CONFIG_SCHEMA, SECRET_PATHS, type Config } from './schema.ts'
import { policyIssues } from './policy.ts'
import { venueHealthIssues } from './venue-health.ts'
import { venueIssues } from './venue-issues.ts'

export { ConfigError } from './config-error.ts'
export type { ConfigIssue } from './config-error.ts'

type EnvKind = 'string' | 'integer'

/** Environment variables that override a config field. Env wins over the file, the file over the defaults. */
export const ENV_OVERRIDES: Readonly<Record<string, { path: readonly string[]; kind: EnvKind }>> = {
  PORT: { path: ['port'], kind: 'integer' },
  EGRESS_HOST: { path: ['host'], kind: 'string' },
  EGRESS_DATA_DIR: { path: ['dataDir'], kind: 'string' },
  EGRESS_MODE: { path: ['mode'], kind: 'string' },
  EGRESS_WAL_DURABILITY: { path: ['wal', 'durability'], kind: 'string' },
  EGRESS_JWKS_FILE: { path: ['auth', 'jwksFile'], kind: 'string' },
  EGRESS_HS256_SECRET: { path: ['auth', 'hs256Secret'], kind: 'string' },
  EGRESS_BACKOFFICE_RECONCILE_MS: { path: ['backoffice', 'reconcileIntervalMs'], kind: 'integer' },
  EGRESS_STORAGE_FREE_BYTES_MIN: { path: ['storage', 'freeBytesMin'], kind: 'integer' },
}

/** Names the config file when `--config` is not given. */
export const CONFIG_PATH_ENV = 'EGRESS_CONFIG'

export interface LoadConfigOptions {
  /** A JSON config file; falls back to `$EGRESS_CONFIG`, then to defaults only. */
  configPath?: string | undefined
  /** The environment to read overrides from; `process.env` by default. */
  env?: Record<string, string | undefined>
}

/** Defaults ← file ← env, validated. Throws ConfigError. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env
  refuseMisspeltEnv(env)
  refuseEmptyDataDir(env)
  if (options.configPath === undefined) refuseEmptyConfigPath(env)
  // `--config=` (a script's variable that came out empty) failed as "config file : cannot read (ENOENT)".
  else if (options.configPath.trim() === '') throw new ConfigError([{ path: '(config file)', message: '--config is empty; give a config file, or leave the option out for the embedded defaults' }])
  const configPath = options.configPath ?? nonEmpty(env[CONFIG_PATH_ENV])
  const input = configPath === undefined ? {} : readConfigFile(configPath)
  const hidden = fileValuesOverridden(input, env)
  const fileAlone = hidden.length === 0 ? null : structuredClone(input)
  const sources = applyEnv(input, env)
  const config = parseConfig(input, { sources })
  if (fileAlone !== null) refuseHiddenFileValues(fileAlone, hidden, configPath as string)
  refuseNotADirectory('dataDir', config.dataDir, sources.get('dataDir'))
  // The gateway writes into these only when it needs them (a tamper finding's forensics bundle, a compaction): a file
  // at their path failed then — the evidence of a tamper lost, segments left behind — not at the start that could say so.
  if (config.audit.forensicsDir !== undefined) refuseNotADirectory('audit.forensicsDir', config.audit.forensicsDir, undefined)
  if (config.snapshots?.archiveDir !== undefined) refuseNotADirectory('snapshots.archiveDir', config.snapshots.archiveDir, undefined)
  // Every anchor write into a directory there failed, and with them the start's LOG_BEHIND_ANCHOR check, in silence.
  if (config.audit.anchorsFile !== undefined) refuseNotAFile('audit.anchorsFile', config.audit.anchorsFile)
  return config
}

/** A variable that nearly names a setting (EGRESS_DATADIR, EGRESS_PORT) is refused rather than ignored. */
function refuseMisspeltEnv(env: Record<string, string | undefined>): void {
  const known = [...Object.keys(ENV_OVERRIDES), CONFIG_PATH_ENV, ...OTHER_ENV_NAMES]
  const misspelt = misspeltEnvNames(env, known)
  if (misspelt.length === 0) return
  throw new ConfigError(misspelt.map(({ name, meant }) => ({ path: '', message: `environment variable ${name} is not one egress reads; did you mean ${meant}?` })))
}

/**
 * An empty variable counts as unset, but not this one: `EGRESS_DATA_DIR=` (a deployment script's variable that came out
 * empty) started the gateway on a fresh log in ./data — no open orders, no positions, no idempotency keys — where the
 * operator meant its real one. Unset it to mean the default.
 */
function refuseEmptyDataDir(env: Record<string, string | undefined>): void {
  const value = env.EGRESS_DATA_DIR
  if (value === undefined || value.trim() !== '') return
  throw new ConfigError([{ path: 'dataDir', message: 'environment variable EGRESS_DATA_DIR is set but empty; give a directory, or unset it for the default (./data)' }])
}

/**
 * `EGRESS_CONFIG=` set but empty read as "no config": a deployment whose variable lost its value started on the
 * defaults (a fresh ./data, paper) and `egress token` minted from them (review). Refused as an empty EGRESS_DATA_DIR is.
 */
function refuseEmptyConfigPath(env: Record<string, string | undefined>): void {
  const value = env[CONFIG_PATH_ENV]
  if (value === undefined || value.trim() !== '') return
  throw new ConfigError([{ path: '(config file)', message: `environment variable ${CONFIG_PATH_ENV} is set but empty; give a config file, or unset it for the embedded defaults` }])
}

/**
 * A data dir that exists as a file (or lies under one) can hold no log; without this check the failure surfaced
 * later as a raw ENOTDIR on one of its subpaths, or blamed on auth.hs256Secret. A missing one is fine (created on
 * first use); one that cannot be written fails where it is written, naming the path. The same for the other
 * directories the config names.
 */
function refuseNotADirectory(field: string, dir: string, source: string | undefined): void {
  const kind = directoryProblem(dir)
  if (kind === null) return
  const from = source === undefined ? '' : ` (from ${source})`
  throw new ConfigError([{ path: field, message: `expected a directory, got ${JSON.stringify(dir)}: ${kind}${from}` }])
}

/**
 * Why `dir` can never be a directory the gateway makes or uses, or null when it is one or may become one (missing; a
 * directory it cannot write fails where it is written, naming the path): a file, a path under a file, a symbolic link
 * loop, or under a symbolic link to nowhere. The config's directories and serve's --lease-dir are checked with it.
 */
export function directoryProblem(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : 'a file, not a directory'
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // A symbolic link to nowhere (a volume not mounted, a target moved): mkdir on it failed as "ENOENT, mkdir
    // <dataDir>/auth", naming neither the field nor the link.
    // A symbolic link loop: "secret file …/auth/hs256.secret cannot read (ELOOP)", blamed on auth.hs256Secret.
    return code === 'ENOTDIR' ? 'a path under a file' : code === 'ENOENT' ? danglingLink(dir) : code === 'ELOOP' ? LINK_LOOP : null
  }
}

/** A file the gateway appends to: refused when something other than a regular file is there (it may be missing). */
function refuseNotAFile(field: string, path: string): void {
  let kind: string | null
  try {
    const stat = statSync(path)
    kind = stat.isFile() ? null : stat.isDirectory() ? 'a directory, not a file' : 'not a regular file'
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    kind = code === 'ENOTDIR' ? 'a path under a file' : code === 'ELOOP' ? LINK_LOOP : null
  }
  if (kind === null) return
  throw new ConfigError([{ path: field, message: `expected a regular file (or none yet), got ${JSON.stringify(path)}: ${kind}` }])
}

const LINK_LOOP = 'a symbolic link loop (ELOOP)'

/**
 * The nearest existing part of a missing `path` (itself included), when it is a symbolic link to nowhere: nothing can be
 * made under it. Only `path` itself was looked at: a data dir under such a link failed as "ENOENT, mkdir <dir>/auth".
 */
function danglingLink(path: string): string | null {
  let at = absolute(path)
  while (at !== dirname(at) && lstatSync(at, { throwIfNoEntry: false }) === undefined) at = dirname(at)
  try {
    if (!lstatSync(at).isSymbolicLink() || existsSync(at)) return null
    const link = `a symbolic link to ${JSON.stringify(readlinkSync(at))}, which does not exist`
    return at === absolute(path) ? link : `under ${JSON.stringify(at)}, ${link}`
  } catch {
    return null
  }
}

export interface ParseConfigOptions {
  /** Field path → where its value came from, appended to messages (`(from env PORT)`). */
  sources?: ReadonlyMap<string, string>
}

/** Validates a config object (as read from JSON) and fills in defaults. Throws ConfigError. */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): Config {
  const result = v.safeParse(CONFIG_SCHEMA, input)
  const sources = options.sources ?? new Map<string, string>()
  if (!result.success) throw new ConfigError(distinct(result.issues.map((issue) => describeIssue(issue, sources))))
  return resolve(result.output)
}

/** The embedded defaults, as an effective config. */
export function defaultConfig(): Config {
  return parseConfig({})
}

function describeIssue(issue: v.BaseIssue<unknown>, sources: ReadonlyMap<string, string>): ConfigIssue {
  const path = v.getDotPath(issue) ?? ''
  const source = sources.get(path)
  const from = source === undefined ? '' : ` (from ${source})`
  const got = SECRET_PATHS.has(path) ? '(secret, not shown)' : shown(issue.input)
  if (issue.type === 'strict_object') {
    // Not an object at all (a section given as a string, number or null): said so, not "required field is missing".
    if (issue.expected === 'Object') return { path, message: `expected an object, got ${got}${from}` }
    // Key issues: either a key the schema does not know, or a required key that is absent.
    return { path, message: issue.expected === 'never' ? 'unknown field' : `required field is missing${from}` }
  }
  return { path, message: `${issue.message}, got ${got}${from}` }
}

/**
 * Each issue once: a value failing two steps of one pipe (70000.5 is neither an integer nor ≤ 65535) gave the same
 * range message twice.
 */
function distinct(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>()
  return issues.filter((issue) => {
    const key = `${issue.path}\n${issue.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** The most of a value an issue quotes: a 3 MB string (or object) given where an id goes was quoted whole. */
const SHOWN_CHARS_MAX = 100

/** A value as the file gave it. JSON.stringify wrote a number too large for a double (1e400, Infinity) as null. */
function shown(input: unknown): string {
  if (input === undefined) return 'nothing'
  if (typeof input === 'number' && !Number.isFinite(input)) return `${input} (too large)`
  const text = JSON.stringify(input)
  return text.length <= SHOWN_CHARS_MAX ? text : `${text.slice(0, SHOWN_CHARS_MAX)}… (${text.length} characters)`
}

type Parsed = v.InferOutput<typeof CONFIG_SCHEMA>

/** Cross-field rules that a per-field schema cannot state. */
function resolve(parsed: Parsed): Config {
  const issues: ConfigIssue[] = []
  // HS256 (one shared secret, minted locally by `egress token`) is on by default only in paper mode: a shadow gateway
  // talks to real venues (read-only), so a secret anyone with the data directory can mint from needs saying so.
  const hs256Enabled = parsed.auth.hs256Enabled ?? parsed.mode === 'paper'
  if (hs256Enabled && parsed.mode === 'live') {
    issues.push({ path: 'auth.hs256Enabled', message: 'HS256 tokens are for local paper/shadow use and are refused in live mode' })
  }
  if (!hs256Enabled && parsed.auth.jwksFile === undefined) {
    const shadowHint = parsed.mode === 'shadow' && parsed.auth.hs256Enabled === undefined ? ' (HS256 is on by default in paper mode only; in shadow mode it takes auth.hs256Enabled: true)' : ''
    issues.push({ path: 'auth', message: `no way to verify tokens: set auth.jwksFile or enable auth.hs256Enabled${shadowHint}` })
  }
  const { jwksStaleMaxMs, jwksReloadMs } = parsed.auth
  if (jwksStaleMaxMs !== undefined && jwksStaleMaxMs < 2 * jwksReloadMs) {
    issues.push({ path: 'auth.jwksStaleMaxMs', message: `expected at least 2 × auth.jwksReloadMs (${2 * jwksReloadMs}) so an untouched file never goes stale between reloads, got ${jwksStaleMaxMs}` })
  }
  if (parsed.auth.scrapeTokenFile !== undefined && parsed.auth.protectServiceRoutes !== true) {
    // Set alone it would suggest /metrics is guarded while it still answers anyone.
    issues.push({ path: 'auth.scrapeTokenFile', message: 'only used with auth.protectServiceRoutes true (without it /metrics answers anyone, and the scrape token would guard nothing)' })
  }
  const seen = new Set<string>()
  parsed.accounts.forEach((account, index) => {
    if (seen.has(account.id)) issues.push({ path: `accounts.${index}.id`, message: `duplicate account id "${account.id}"` })
    seen.add(account.id)
  })
  issues.push(...venueIssues(parsed))
  issues.push(...policyIssues(parsed))
  issues.push(...graceIssues(parsed), ...heldMaxIssues(parsed), ...keysHeldMaxIssues(parsed))
  issues.push(...venueHealthIssues(parsed.venueHealth))
  // An order without a `venue` goes to the sim venue (the order body's default, decided in the kernel): no config field
  // changes that. A config naming another default venue was accepted and had no effect — orders meant for a FIX venue
  // went to the sim one — so it is refused, as an unknown field is, rather than silently ignored.
  if (parsed.venue !== 'sim') {
    issues.push({ path: 'venue', message: `expected "sim": an order without a "venue" goes to the sim venue whatever this field says; name the venue in each order instead, got ${JSON.stringify(parsed.venue)}` })
  }
  offOrAtLeast(issues, 'audit.anchorEveryMs', parsed.audit.anchorEveryMs, 1_000)
  offOrAtLeast(issues, 'collector.edenEveryMs', parsed.collector?.edenEveryMs, 10)
  offOrAtLeast(issues, 'collector.fullWhenIdleMs', parsed.collector?.fullWhenIdleMs, 100)
  offOrAtLeast(issues, 'snapshots.everyMs', parsed.snapshots?.everyMs, 1_000)
  if (parsed.snapshots?.enabled === false) {
    for (const field of ['everyRecords', 'everyMs'] as const) {
      if (parsed.snapshots[field] !== 0) issues.push({ path: `snapshots.${field}`, message: `snapshots are disabled (snapshots.enabled false): expected 0, got ${parsed.snapshots[field]}` })
    }
    if (parsed.snapshots.compaction !== 'off') issues.push({ path: 'snapshots.compaction', message: `snapshots are disabled (snapshots.enabled false): compaction needs them, got ${JSON.stringify(parsed.snapshots.compaction)}` })
  }
  if (parsed.snapshots?.archiveDir !== undefined && parsed.snapshots.compaction !== 'archive') {
    issues.push({ path: 'snapshots.archiveDir', message: `only used with compaction "archive", got compaction ${JSON.stringify(parsed.snapshots.compaction)}` })
  }
  if (issues.length > 0) throw new ConfigError(issues)
  return { ...parsed, auth: { ...parsed.auth, hs256Enabled } }
}

/** A setting that is 0 (off) or at least `min` (unset counts as off): an issue naming `path` when it is neither. */
function offOrAtLeast(issues: ConfigIssue[], path: string, value: number | undefined, min: number): void {
  if (value !== undefined && value !== 0 && value < min) issues.push({ path, message: `expected 0 (off) or at least ${min}, got ${value}` })
}

/**
 * An explicit reconcile grace covers every venue's request timeout: a venue's adapter waits that long for a place's
 * answer, so a "not found" read back sooner may precede the venue's processing of the place, and a grace shorter than
 * it would prove absence (Failed, not at the venue, resendable) of an order the venue may yet take. Unset, the grace
 * defaults to the longest timeout (kernelParamsOverrides).
 */
function graceIssues(parsed: Parsed): ConfigIssue[] {
  const graceMs = parsed.kernel?.reconcileGraceMs
  const longest = venueTimeoutMsMax(parsed.venues)
  if (graceMs === undefined || longest === null || graceMs >= longest.requestTimeoutMs) return []
  const field = `venues.${longest.index}.requestTimeoutMs`
  const message = `must be ≥ ${field} (${longest.requestTimeoutMs}): a "not found" read back before the venue could answer the place proves nothing; raise it or lower ${field}, got ${graceMs}`
  return [{ path: 'kernel.reconcileGraceMs', message }]
}

/**
 * The hard cap on ended orders held is at least the count kept: a cap below it would retire, grace or not, orders the
 * count says to keep, and terminalOrdersKeptMax would mean nothing. Each unset is its default (defaultKernelParams).
 */
function heldMaxIssues(parsed: Parsed): ConfigIssue[] {
  const defaults = defaultKernelParams()
  // Unset, the cap follows a larger count (kernelParamsOverrides): only an explicit cap can be below it.
  const heldMax = parsed.kernel?.terminalOrdersHeldMax ?? Number.POSITIVE_INFINITY
  const keptMax = parsed.kernel?.terminalOrdersKeptMax ?? defaults.terminalOrdersKeptMax
  if (heldMax >= keptMax) return []
  return [{ path: 'kernel.terminalOrdersHeldMax', message: `must be ≥ kernel.terminalOrdersKeptMax (${keptMax}): the cap retires orders even within the grace, the count keeps the newest; got ${heldMax}` }]
}

/**
 * The cap on idempotency keys held leaves room beyond the ended orders kept by count: a key stays while the kernel holds
 * its order, and ended orders within terminalOrdersKeptMax never retire, so a cap at or within that count could fill
 * with their keys and refuse every new order for good (review finding). Twice the count, each unset its default.
 */
function keysHeldMaxIssues(parsed: Parsed): ConfigIssue[] {
  // Unset, the cap follows a larger count (kernelParamsOverrides): only an explicit cap can be below it.
  const keysMax = parsed.kernel?.idempotencyKeysHeldMax ?? Number.POSITIVE_INFINITY
  const keptMax = parsed.kernel?.terminalOrdersKeptMax ?? defaultKernelParams().terminalOrdersKeptMax
  if (keysMax >= 2 * keptMax) return []
  return [{ path: 'kernel.idempotencyKeysHeldMax', message: `must be ≥ 2 × kernel.terminalOrdersKeptMax (${2 * keptMax}): the keys of the ended orders kept stay held, and a cap they fill refuses every new order; got ${keysMax}` }]
}

/** Writes env overrides into `input` in place; returns which fields they set, for error messages. */
function applyEnv(input: Record<string, unknown>, env: Record<string, string | undefined>): Map<string, string> {
  const sources = new Map<string, string>()
  for (const [name, { path, kind }] of Object.entries(ENV_OVERRIDES)) {
    const raw = nonEmpty(env[name])
    if (raw === undefined) continue
    // An integer field gets a number only when the text is one, so "abc" reaches the schema and is reported as-is.
    const value = kind === 'integer' && /^\d{1,15}$/.test(raw) ? Number(raw) : raw
    setPath(input, path, value)
    sources.set(path.join('.'), `env ${name}`)
  }
  return sources
}

/** Fields the file sets that an environment variable overrides (dotted path, the variable). */
function fileValuesOverridden(input: Record<string, unknown>, env: Record<string, string | undefined>): { path: string; name: string }[] {
  const hidden: { path: string; name: string }[] = []
  for (const [name, { path }] of Object.entries(ENV_OVERRIDES)) {
    if (nonEmpty(env[name]) === undefined) continue
    let node: unknown = input
    for (const key of path) node = typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined
    if (node !== undefined) hidden.push({ path: path.join('.'), name })
  }
  return hidden
}

/**
 * A file value an environment variable overrides is still checked: hidden by the override, a bad one (`"port": "80a"`)
 * let this start go on and failed the first start without the variable — a restart by another script, a standby's
 * unit file — far from the edit that made it. Only those fields' issues are refused here; the rest of the file was
 * judged with the overrides in place.
 */
function refuseHiddenFileValues(fileAlone: Record<string, unknown>, hidden: { path: string; name: string }[], configPath: string): void {
  try {
    parseConfig(fileAlone)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const issues = error.issues.flatMap((issue) => {
      const override = hidden.find((entry) => entry.path === issue.path)
      return override === undefined ? [] : [{ path: issue.path, message: `${issue.message} in ${configPath} (${override.name} overrides it, but the file's value must be valid too: fix it or remove it from the file)` }]
    })
    if (issues.length > 0) throw new ConfigError(issues)
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    const child = node[key]
    if (child === undefined) node[key] = {}
    // A non-object here is a config error for the schema to report: replaced by `{}`, the file's bad section was
    // dropped without a word whenever an env override set a field inside it.
    else if (typeof child !== 'object' || child === null || Array.isArray(child)) return
    node = node[key] as Record<string, unknown>
  }
  node[path[path.length - 1] as string] = value
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
