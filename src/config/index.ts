/**
 * config/ — the gateway's configuration: a valibot schema with embedded defaults, loading from a JSON file plus
 * environment overrides, the digest recorded in the log, and the local HS256 secret.
 */

export {
  backOfficeConfigOf, collectorConfigOf, COMPACTION_MODES, CONFIG_SCHEMA, DEFAULT_ACCOUNTS, DEFAULT_READ_BUDGET, DURABILITIES, MODES, readBudgetOf, SECRET_PATHS, snapshotsConfigOf, storageConfigOf, TAMPER_RESPONSES,
  venueHealthConfigOf,
} from './schema.ts'
export { AUTO_STOP, AUTO_STOP_ACTIONS, ORDER_RATE_SCOPES, type AutoStopConfig } from './auto-stop.ts'
export { VENUE_HEALTH, venueHealthDefaults, type VenueHealthConfig } from './venue-health.ts'
export { KERNEL, kernelParamsOverrides } from './kernel.ts'
export { accountPolicySettings, isoTimeMs, POLICY, servedInstrumentKeys } from './policy.ts'
export type { PolicyConfig } from './policy.ts'
export type { KernelSection } from './kernel.ts'
export { FIX_BEGIN_STRINGS, FIX_LOGON_WAIT_MS_DEFAULT, FIX_LOGON_WAIT_MS_MAX, FIX_MESSAGE_BYTES_MAX_LIMIT, FIX_MESSAGE_BYTES_MIN, FIX_OPEN_ORDERS_MAX_LIMIT, FIX_RESET_ON_LOGON, VENUE_MARKET_DATA } from './venues.ts'
export type { FixVenueConfig, VenueConfig, VenueInstrumentConfig } from './venues.ts'
export { fixVenueConfigs } from './venues.ts'
export { SIM_INSTRUMENTS_MAX, SIM_VENUE_NAME, simInstrumentConfigs, simStoreOptions } from './sim-venue.ts'
export type { SimInstrumentConfig, SimVenueConfig } from './sim-venue.ts'
export type { AccountConfig, AuditConfig, AuthConfig, BackOfficeConfig, CollectorConfig, Config, Durability, Mode, SnapshotsConfig, StorageConfig } from './schema.ts'
export { CONFIG_PATH_ENV, ConfigError, ENV_OVERRIDES, defaultConfig, directoryProblem, loadConfig, parseConfig } from './load.ts'
export type { ConfigIssue, LoadConfigOptions, ParseConfigOptions } from './load.ts'
export { canonicalConfigJson, configDigest } from './digest.ts'
export { CURSOR_SECRET_FILE, HS256_SECRET_FILE, hs256SecretPath, resolveCursorSecret, resolveHs256Secret } from './secret.ts'
export { HA_CURSOR_SECRET_SALT, HA_CURSOR_SECRET_SCRYPT, haCursorSecret } from './ha-cursor-secret.ts'
