/**
 * runtime/ — the impure shell around the kernel: opens and replays the log, decides commands in order and acknowledges
 * them once durable (engine), sends through lanes → I-100 gate → outbox → adapter (executor), feeds venue reports
 * through the inbox, reconciles Unknown orders, runs bootstrap, and owns the only clock.
 */

export { Engine, EngineOverloadedError, type AppliedEvent, type Committed, type DurableListener } from './engine.ts'
export { Executor, type ExecutorOptions, type ExecutorStats } from './executor.ts'
export { bootstrap, BOOTSTRAP_PRINCIPAL, type BootstrapReport, type Funding } from './bootstrap.ts'
export { Gateway, type CommandResult, type GatewayOptions } from './gateway.ts'
export { ReplicaApplyError } from './replica-apply-error.ts'
export { MarketFeed, type PriceSource } from './market-feed.ts'
export { SimClock, WallClock } from './clock.ts'
export { AUDIT_RECORD_TYPE_MIN, domainEventOf, isAuditRecord } from './records.ts'
export { anchorsPathOf, logBehindAnchorLine, logBehindAnchors, refuseLogBehindAnchors } from './anchors-behind.ts'
export { durableWitnessBeyond, judgedAnchorsEnd, snapshotsBeyond, storedQueryModelLsn, tailCutGuardOf, type DurableWitness } from './durable-witnesses.ts'
export { QUARANTINE_BYTES_WARN, QUARANTINE_FILES_WARN, readQuarantineStatus, type QuarantineStatus, type QuarantineWarn } from './quarantine-status.ts'
