/**
 * The gateway `egress serve` runs, built from the effective config: paper mode on the sim venue with the config's
 * accounts funded, the log in `<dataDir>/log` with the configured durability, and the real config digest recorded in
 * the log (bootstrap's `configure` carries it) and in every decision record. The sim trades the instruments a `venues`
 * entry of type "sim" lists, else its built-in ones (serve-sim.ts). FIX venues from config `venues` are added
 * next to the sim (serve-fix.ts); their sessions start once the log is restored, and are logged on (within a bound)
 * before bootstrap reconciles, and stop before the gateway closes the log.
 */

import { backOfficeOf, backOfficeSectionSource, FUNDING_BOOK, initialLedger, type Store } from '../backoffice/index.ts'
import type { Units } from '../domain/decimal.ts'
import type { Funding } from '../runtime/bootstrap.ts'
import { accountPolicySettings, backOfficeConfigOf, configDigest, fixVenueConfigs, kernelParamsOverrides, simStoreOptions, snapshotsConfigOf, venueHealthConfigOf, type Config } from '../config/index.ts'
import type { SnapshotPolicy } from '../runtime/snapshot/index.ts'
import type { Clock } from '../domain/clock.ts'
import { Gateway, type GatewayRole } from '../runtime/gateway.ts'
import { finishInterruptedSwaps, lockDataDir } from '../runtime/ha/index.ts'
import type { PriceSource } from '../runtime/market-feed.ts'
import { QUARANTINE_BYTES_WARN, QUARANTINE_FILES_WARN } from '../runtime/quarantine-status.ts'
import type { VenueAdapter } from '../venues/adapter.ts'
import { paperFundings, paperKernelConfig, simDepositsAtRestart, simDepositsOf, type PaperAccount } from '../runtime/paper.ts'
import { simMemoryOf, trueUpTimesOf } from '../runtime/paper-sim-memory.ts'
import type { Lease, WalOptions } from '../../wal/index.ts'
import { SimVenue } from '../venues/sim/index.ts'
import type { FixConnect, FixLog } from '../venues/fix/index.ts'
import type { Engine } from '../runtime/engine.ts'
import { buildFixVenues, fixVenueSessions, type ServedFixVenue } from './serve-fix.ts'
import { simVenueInstruments } from './serve-sim.ts'
import { droppedInstrumentLines } from './dropped-instruments.ts'

export interface ServeGatewayOptions {
  clock: Clock
  /** Overrides for tests (durability none, small segments). */
  wal?: Partial<WalOptions>
  buildCommit: string
  onError: (error: unknown, context: string) => void
  /** Lines worth an operator's eye that are not errors (a swap an HA node left half done, finished); default: none. */
  log?: (line: string) => void
  /** Seed of the sim venue's price walk and faults. */
  simSeed?: number
  /** HA: the role of this start (default leader of itself), the lease when leading, and whether it leads now. */
  role?: GatewayRole
  /** GatewayOptions.beforeBootstrap (an HA leader's send gate, and its places held until it leads). */
  beforeBootstrap?: (engine: Engine, gateway: Gateway) => void
  lease?: Lease
  haLeader?: () => boolean
  /** The audit config the gateway runs with, when not the config's (a single node's local seal key: withLocalSealKey). */
  audit?: Config['audit']
  /** A venue outside the process (JSONL over TCP) instead of the in-process sim venue. */
  venue?: { adapter: VenueAdapter; prices: PriceSource }
  /** Where the FIX sessions' records go (default: JSON lines on stderr). */
  fixLog?: FixLog
  /** The FIX sessions' transport (tests: an in-process acceptor); default TCP to each venue's host. */
  fixConnect?: FixConnect
  /** How long the start waits for every FIX session's Logon before bootstrap (default: each venue's `logonWaitMs`). */
  fixLogonWaitMs?: number
}

export interface ServeGateway {
  gateway: Gateway
  venue: SimVenue
  /** The FIX venues from config `venues`, their sessions started (logged on, unless the start said otherwise). */
  fixVenues: ServedFixVenue[]
  digest: string
  /** Stops the gateway: the FIX sessions first (Logout, numbers saved), the log last. */
  stop(): Promise<void>
}

export async function startServeGateway(config: Config, options: ServeGatewayOptions): Promise<ServeGateway> {
  const digest = configDigest(config)
  // Each account's policy: the config's settings (accounts[].policy over defaultPolicy) over the paper defaults.
  const policySettings = accountPolicySettings(config)
  const accounts: PaperAccount[] = config.accounts.map((account) => {
    const policy = policySettings.get(account.id)
    return { accountId: account.id, balances: account.balances, ...(policy === undefined ? {} : { policy }) }
  })
  // The config's sim instruments (a `venues[]` entry of type "sim"), else the built-in ones.
  const { instruments: simInstruments, simInstruments: simBook } = simVenueInstruments(config)
  // The paper fundings are held at the sim too: a reduce-only sell (a flatten's close) may reduce them.
  const venue = new SimVenue({
    clock: options.clock, seed: options.simSeed ?? 1, instruments: simBook, deposits: simDepositsOf(accounts), ...simStoreOptions(config.venues),
    onBookError: (message) => options.log?.(`sim venue: book error (skipped): ${message}`),
  })
  const fixConfigs = fixVenueConfigs(config.venues)
  // serve refuses this before anything is written (HA_FIX_VENUES_UNSUPPORTED, ha-fix-venues.ts); kept for other callers.
  if (fixConfigs.length > 0 && (options.role !== undefined || options.lease !== undefined || options.venue !== undefined)) {
    throw new Error('config venues (FIX) are served by a single node: not with --role, --lease-dir or --venue (HA with FIX venues is not supported yet)')
  }
  let started: Gateway | null = null
  // The gateway as restored (engine replayed, snapshot sections loaded), before bootstrap: the FIX stores' log.
  let restored: Gateway | null = null
  const engine = (): Engine => {
    if (restored === null) throw new Error('a FIX session asked for the log before the gateway restored it')
    return restored.engine
  }
  const fixVenues = buildFixVenues(fixConfigs, {
    clock: options.clock,
    engine,
    restoredSection: (name) => restored?.restoredSections.get(name),
    ...(options.fixLog === undefined ? {} : { log: options.fixLog }),
    ...(options.fixConnect === undefined ? {} : { connect: options.fixConnect }),
  })
  const fixSessions = fixVenueSessions(fixVenues, {
    attach: (gateway) => {
      restored = gateway
    },
    ...(options.fixLogonWaitMs === undefined ? {} : { logonWaitMs: options.fixLogonWaitMs }),
    log: options.log ?? (() => {}),
    onError: options.onError,
  })
  const instruments = [...simInstruments, ...fixVenues.flatMap((fix) => fix.instruments)]
  // A data dir an HA node left mid-swap (log/ moved aside): finished first, or Wal.open would start an empty log — and
  // only under the data dir's lock (data-dir-lock.ts), which an HA node running on it holds: a plain serve never
  // finishes (or rolls back) a swap a running node is making. An HA node's gateway start (a role given) runs under its
  // node's lock already. Held until the gateway holds its log's lock, which keeps the others out from there.
  const dataDirLock = options.role === undefined ? lockDataDir(config.dataDir, { create: true }) : null
  let gateway: Gateway
  try {
    finishInterruptedSwaps(config.dataDir, options.log ?? (() => {}))
    gateway = await startGateway()
  } finally {
    dataDirLock?.release()
  }
  started = gateway
  // The back office opens with the gateway (not on first request), from the snapshot's section when it has one, so
  // every snapshot carries it and the log below a compacted start is never needed for it. A standby keeps it too (its
  // snapshots and compaction must not lose it) but never reconciles: its log takes no records of its own.
  try {
    backOfficeOf(gateway, { reconcileIntervalMs: gateway.role === 'leader' ? backOfficeConfigOf(config).reconcileIntervalMs : null })
  } catch (error) {
    // A standby's query model refused (an unreadable file): its gateway is running by now, and was left so, holding
    // the log and its lock while the start reported its failure. Stopped, it takes no snapshot (none lacks the section).
    await gateway.stop().catch((stopError: unknown) => options.onError(stopError, 'stopping a gateway whose back office could not open'))
    throw error
  }
  // The gateway's stop ends the FIX sessions first (GatewayOptions.venueSessions), while the log is open.
  const stop = (): Promise<void> => gateway.stop()
  return { gateway, venue, fixVenues, digest, stop }

  function startGateway(): Promise<Gateway> {
    return Gateway.start({
      dataDir: config.dataDir,
      clock: options.clock,
      ...(options.log === undefined ? {} : { log: options.log }),
      wal: {
        durability: config.wal.durability,
        segmentBytesMax: config.wal.segmentBytesMax,
        ...options.wal,
        ...(options.lease === undefined ? {} : { lease: options.lease, epoch: options.lease.epoch }),
      },
      ...(options.role === undefined ? {} : { role: options.role }),
      quarantineWarn: { files: config.wal.quarantineFilesWarn ?? QUARANTINE_FILES_WARN, bytes: config.wal.quarantineBytesWarn ?? QUARANTINE_BYTES_WARN },
      beforeBootstrap: (engine, leader) => {
        options.beforeBootstrap?.(engine, leader)
        // Orders the log holds open on an instrument this config no longer lists stay manageable, but rest until
        // canceled: said at every start that finds them (dropped-instruments.ts).
        const served = new Set([(options.venue?.adapter ?? venue).venue, ...fixVenues.map((fix) => fix.name)])
        for (const line of droppedInstrumentLines(engine.state.orders.values(), instruments, served)) options.log?.(line)
        // The back office opens before bootstrap (below for a standby) so the sim venue can resume from it: the sim
        // lives in this process, and egress's log is the only record of what it held. A fresh log has nothing to resume.
        const office = backOfficeOf(leader, { reconcileIntervalMs: backOfficeConfigOf(config).reconcileIntervalMs })
        if (options.venue !== undefined || engine.wal.lastLsn === 0) return
        const { projector } = office
        projector.flush()
        const nowMs = options.clock.nowMs()
        // What the log funded, not the config's opening balances (funded once: paper.ts simDepositsAtRestart). A
        // ledger missing compacted history keeps the config's.
        const deposits = projector.ledgerComplete ? { deposits: simDepositsAtRestart(accounts, engine.state, loggedFundings(projector.store)) } : {}
        venue.resume({
          ...deposits,
          ...simMemoryOf({
            state: engine.state,
            ledger: projector.ledgerComplete ? projector.ledger : initialLedger(),
            fillsOf: (orderId) => projector.store.fills({ orderId, limit: Number.MAX_SAFE_INTEGER }),
            trueUpTimesOf: (orderId) => trueUpTimesOf(projector.store, orderId),
            venue: venue.venue,
            session: nowMs.toString(36),
            historyFromMs: nowMs - venue.tradeHistoryMs,
          }),
        })
      },
      ...(options.lease === undefined ? {} : { lease: options.lease }),
      // The FIX sessions log on between the restore and bootstrap, so bootstrap reconciles their orders too (DESIGN §6).
      ...(fixVenues.length === 0 ? {} : { venueSessions: fixSessions }),
      // Config `kernel` over the kernel's defaults; recorded by bootstrap's `configure` (kernel.configured).
      kernelConfig: paperKernelConfig({ accounts, digest, instruments, params: kernelParamsOverrides(config.kernel, config.venues) }),
      fundings: paperFundings(accounts),
      // The config's mode is what the operator asked this start for. Bootstrap applies it, as a recorded decision before
      // anything is sent, on a log never started or when it reaches less than the log's mode (an earlier run's or an
      // admin call's); it never escalates beyond the log's (src/runtime/start-mode.ts).
      mode: config.mode,
      venues: [
        options.venue ?? { adapter: venue, prices: { referencePrice: (symbol) => venue.referencePrice(symbol) } },
        ...fixVenues.map((fix) => ({ adapter: fix.adapter, prices: fix.prices })),
      ],
      snapshots: snapshotPolicyOf(config),
      // The back office's ledger and query model go into every snapshot at the kernel's LSN (opened below).
      snapshotSections: [backOfficeSectionSource(() => started), ...fixVenues.map((fix) => fix.section)],
      configDigest: digest,
      buildCommit: options.buildCommit,
      // A single paper node: leader of itself, never live; the gateway folds its own audit verdict into the gate facts.
      facts: () => ({ haLeader: options.haLeader?.() ?? true, liveExplicit: false, schemaCompatible: true, auditVerified: true }),
      callsInFlightMax: 512,
      ...(config.executor?.lane3Every === undefined ? {} : { lane3Every: config.executor.lane3Every }),
      reconcileRetryMs: 500,
      convergeWaitMsMax: 10_000,
      reconcileSweepMs: 5_000,
      resendAgeMsMax: 60_000,
      onError: options.onError,
      // Seals (when a signing key is configured), the chain self-check and the tamper response.
      audit: options.audit ?? config.audit,
      // Venue health scoring: a leader records each venue's level as it changes (I-100 check 8 decides on it).
      venueHealth: venueHealthConfigOf(config),
      // The auto-stop breakers (config `autoStop`): a leader engages the kill switch when one trips. Absent: none.
      ...(config.autoStop === undefined ? {} : { autoStop: config.autoStop }),
    })
  }
}


/** Every funding the log recorded, from the back office's postings to its funding book (each the funding negated). */
function loggedFundings(store: Store): Funding[] {
  return store.postings({ book: FUNDING_BOOK, limit: Number.MAX_SAFE_INTEGER }).map((posting) => ({ accountId: posting.accountId, asset: posting.asset, amount: -posting.amount as Units }))
}

/**
 * The base URL of an HTTP server on `host`: an IPv6 address is bracketed (`http://[::1]:8080`), or the URL is not one.
 * A host configured with its brackets already (`[::1]`, which Bun.serve binds) is not bracketed again: the banner's
 * URLs and an HA node's default advertise URL read `http://[[::1]]:8080`, which no client parses.
 */
export function httpUrlOf(host: string, port: number): string {
  const bracketed = host.startsWith('[') || !host.includes(':') ? host : `[${host}]`
  return `http://${bracketed}:${port}`
}

/** Config `snapshots` as the gateway's snapshot policy (periodic snapshots, retention, compaction, load, shutdown). */
export function snapshotPolicyOf(config: Config): Partial<SnapshotPolicy> {
  const snapshots = snapshotsConfigOf(config)
  return {
    enabled: snapshots.enabled,
    load: snapshots.load,
    keep: snapshots.keep,
    everyRecords: snapshots.everyRecords,
    everyMs: snapshots.everyMs,
    atShutdown: snapshots.enabled && snapshots.atShutdown,
    compaction: snapshots.compaction,
    archiveDir: snapshots.archiveDir ?? null,
  }
}
