/**
 * `egress serve`: loads and validates the config, opens and replays the log, bootstraps (reconcile, resend), then
 * opens HTTP intake on Bun.serve. On SIGTERM, SIGINT or SIGHUP it shuts down in order: stop intake (503 for new
 * requests), end SSE streams with a final event, let in-flight requests finish, drain the commit queue and close the
 * log, exit 0.
 * If the log fails (a write or fsync error), it stops intake, gives the requests in flight up to a second to get their
 * 503, and exits 74.
 */

import { collectorConfigOf, CONFIG_PATH_ENV, loadConfig, resolveCursorSecret, resolveHs256Secret, storageConfigOf, type Config } from '../config/index.ts'
import { loadSigningKey, withLocalSealKey } from '../audit/index.ts'
import { checkJwksFile, createVerifier, JwksError, serviceRoutesAuthFromConfig, verifierOptionsFromConfig } from '../http/auth/index.ts'
import { WalFatalError, WalLockedError } from '../../wal/index.ts'
import { createHttpService } from '../http/index.ts'
import type { DiskWatch } from '../http/disk/index.ts'
import { CollectorPacer } from '../runtime/collector-pacing.ts'
import { currentBuild } from './build-info.ts'
import { EXIT_FAILURE, EXIT_IO_ERROR, EXIT_OK, parseOptions, UsageError, type CliIo, type Command } from './command.ts'
import { httpUrlOf, startServeGateway, type ServeGateway } from './serve-gateway.ts'
import { StoppableClock } from './stoppable-clock.ts'
import { runServeHa } from './serve-ha.ts'
import { parseHaFlags } from './serve-ha-flags.ts'
import { syncFailureOf } from '../runtime/ha/index.ts'
import { refuseLeaseDirInDataDir } from './lease-dir-place.ts'
import { refuseFixVenuesUnderHa } from './ha-fix-venues.ts'
import { pathsNamedBy, refuseForeignDataDir } from './foreign-data-dir.ts'
import { refuseLiveDataDir } from './data-dir.ts'
import { FAILED_GRACE_MS, INTAKE_CLOSE_READ_MS, SHUTDOWN_GRACE_MS, stopWithin } from './server-stop.ts'
import { HS256_SECRET_ENV, paperBanner } from './paper-banner.ts'
import { listenRefusal, logLockedRefusal, refuseUnbindableAddress, serveOn } from './serve-refusals.ts'
import { waitForStopSignal } from './stop-signals.ts'
import { GATEWAY_STOP_BOUNDS, stopCutLine, watchStop } from '../runtime/stop-watch.ts'
import { configWarnings } from '../config/config-warnings.ts'

/** The exit status when the log failed (sysexits EX_IOERR): a supervisor restarts the process, which recovers. */
export const EXIT_LOG_FAILED = EXIT_IO_ERROR
/** Options that only an HA node (--lease-dir) uses. */
const HA_ONLY_OPTIONS = ['node-id', 'advertise-url', 'lease-ttl-ms', 'clock-skew-ms', 'sync-replication', 'sync-timeout-ms', 'accept-data-loss'] as const

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the gateway',
  help: `Usage: egress serve [--config FILE]

Starts the gateway: verifies the log, rebuilds projections, reconciles with venues, then opens HTTP intake.
Defaults: paper mode, sim venue, demo account demo-1 funded, data in ./data, http://127.0.0.1:8080.
Env overrides: PORT, EGRESS_HOST, EGRESS_DATA_DIR, EGRESS_MODE, EGRESS_WAL_DURABILITY, EGRESS_JWKS_FILE,
EGRESS_HS256_SECRET, EGRESS_BACKOFFICE_RECONCILE_MS, EGRESS_STORAGE_FREE_BYTES_MIN, EGRESS_CONFIG. Snapshots (periodic, retention, compaction) come
from the config's "snapshots" section, kernel parameters (reconcileGraceMs, callsPerInstrumentMax, …) from its
"kernel" section. SIGTERM, SIGINT or SIGHUP (the terminal closed; ignored if started so, as by nohup) shuts down
cleanly (exit 0), taking a snapshot and releasing an HA node's lease; one during the start lets the start finish (an
HA node's wait for the lease or its leader is cut short) and stops without opening intake; a second signal ends the
process at once; a stop that makes no progress for 30 s (a disk not answering), or still runs at 10 minutes, exits
1. If the log fails (a write or fsync error) it exits 74: restart it, and it recovers from the log.
An HA node also exits 74 when an fsync fails while it sets a diverged log aside or installs the leader's snapshot;
restarted, it finishes or rolls back that from what is on disk. A data directory holding another program's files
(and no log, snapshot or DATA_DIR_LOCK) is refused, exit 1, DATA_DIR_FOREIGN naming some of them: give an empty or
new directory. A log holding orders not ended on a venue the config no longer lists (its venues[] entry removed) is
refused, exit 1, VENUE_GONE_ORDERS_OPEN naming the venue and the orders: put the entry back, cancel them, then remove it.

HA (one node of a leader/standby pair; needs EGRESS_REPLICATION_TOKEN shared by the nodes):
  --role R            auto (default: lead if the lease is free, else follow) | leader (wait for the lease) | standby
  --lease-dir DIR     lease directory shared by the nodes, outside the data directory (link/rename atomic and
                      durable; clocks within skew)
  --node-id ID        this node's name in the lease, 1-128 characters (default HOST:PORT)
  --advertise-url URL where the other node reaches this one, http(s) (default http://HOST:PORT)
  --lease-ttl-ms N    lease time to live (default 5000); a standby takes over after ttl + skew without renewal
  --clock-skew-ms N   bound on the clock difference between hosts (default 500)
  --venue URL         jsonl://HOST:PORT: a venue process shared by the nodes (egress sim-venue)
  --sync-replication P  off (default, asynchronous) | fail_closed | degrade_async: a 202 waits until the standby
                      holds the write durably; with the standby gone, fail_closed refuses new orders (503
                      STANDBY_UNAVAILABLE), degrade_async answers without waiting and records an alert in the log
  --sync-timeout-ms N how long a write waits for the standby (default 1000)
  --accept-data-loss  take the lease even when this node's log ends below what a standby of the last leader held
                      (refused by default, LEASE_LOG_BEHIND: the node stays standby and retries); for recovery when
                      no copy holding the acknowledged orders is left: what this log lacks is lost
  A config with FIX venues (venues[] of type fix) is a single node's: any HA option with it is refused, exit 1,
  HA_FIX_VENUES_UNSUPPORTED, before anything is written.

Options:
  --config FILE   a JSON config file (or set EGRESS_CONFIG)
  --help          show this help`,
  run: runServe,
}

async function runServe(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    config: { type: 'string' },
    role: { type: 'string' },
    'lease-dir': { type: 'string' },
    'node-id': { type: 'string' },
    'advertise-url': { type: 'string' },
    'lease-ttl-ms': { type: 'string' },
    'clock-skew-ms': { type: 'string' },
    venue: { type: 'string' },
    'sync-replication': { type: 'string' },
    'sync-timeout-ms': { type: 'string' },
    'accept-data-loss': { type: 'boolean' },
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  // The HA options mean nothing to a single node: given without --lease-dir they were ignored, so a node asked for
  // --sync-replication fail_closed started alone and answered 202 with nothing replicated. --role and --venue are
  // refused by parseHaFlags below with the same need.
  const haOnly = HA_ONLY_OPTIONS.find((name) => values[name] !== undefined)
  if (haOnly !== undefined && values['lease-dir'] === undefined) throw new UsageError(`--${haOnly} is for an HA node and needs --lease-dir`)
  // Every HA flag is checked before the config loads: a usage error is reported as one whatever the config holds (a
  // bad --role on a host whose config fails to load was reported as the config's error, exit 1).
  const ha = values.role !== undefined || values['lease-dir'] !== undefined || values.venue !== undefined
    ? parseHaFlags({
        role: values.role, leaseDir: values['lease-dir'], nodeId: values['node-id'], advertiseUrl: values['advertise-url'],
        leaseTtlMs: values['lease-ttl-ms'], clockSkewMs: values['clock-skew-ms'], venue: values.venue,
        syncReplication: values['sync-replication'], syncTimeoutMs: values['sync-timeout-ms'], acceptDataLoss: values['accept-data-loss'],
      }, io.env)
    : null
  const config = loadConfig({ configPath: values.config, env: io.env })
  if (config.mode === 'live') throw new Error('mode "live" needs a live venue adapter and HA lease; this build serves paper and shadow only')
  // The lease's place is known only now, with the data dir: before anything is written in either. FIX venues are a
  // single node's: refused before the node takes a lease or writes its data dir.
  if (ha !== null) {
    refuseFixVenuesUnderHa(config)
    refuseLeaseDirInDataDir(ha.leaseDir, config.dataDir)
  }
  // Before anything is written there (the HS256 secret below, the data dir's lock, the log).
  const configPath = values.config ?? (io.env[CONFIG_PATH_ENV] || undefined)
  refuseForeignDataDir(config.dataDir, [...(configPath === undefined ? [] : [configPath]), ...pathsNamedBy(config)])
  // The key files the start reads later are read now, before anything is written: a missing seal key or a bad JWKS
  // failed only once the data dir held a lock file, a log and secrets (review).
  await checkKeyFiles(config)
  // A data dir a running node or serve holds is refused before anything is written in it (the secrets, a seal key).
  try {
    refuseLiveDataDir(config.dataDir)
  } catch (error) {
    throw error instanceof WalLockedError ? logLockedRefusal(error.message, config) : error
  }
  // An address serve cannot listen on is refused before anything is written (the HS256 secret below, the data dir).
  refuseUnbindableAddress(config)
  const log = (line: string): void => io.err(`${new Date().toISOString()} ${line}`)
  // Read before anything is written or runs (the HS256 secret, the verifier's JWKS reloads): a bad scrape token file
  // exits 1 naming auth.scrapeTokenFile.
  const serviceRoutes = serviceRoutesAuthFromConfig(config.auth, { log })
  const secret = config.auth.hs256Enabled ? resolveHs256Secret(config) : undefined
  // Kept in the data dir, so a list cursor handed out before a restart is still told from a made-up one. An HA node
  // seals with a secret derived from the replication token instead, which both nodes hold (parseHaFlags).
  const cursorSecret = ha === null ? resolveCursorSecret(config.dataDir) : undefined
  const verifier = createVerifier({ ...verifierOptionsFromConfig(config.auth, secret), log })

  // The binary's own commit (or the checkout's): EGRESS_BUILD_COMMIT only when neither is known (build-info.ts).
  const build = currentBuild(io.env)
  if (build.warning !== null) log(`warning: ${build.warning}`)
  for (const warning of configWarnings(config)) log(`warning: ${warning}`)
  log(`build ${build.info.recorded} (${build.info.source}), recorded in every decision record`)
  const buildCommit = build.info.recorded
  if (ha !== null) return runServeHa(ha, { config, verifier, serviceRoutes, buildCommit, log, io, waitForSignal: waitForStopSignal, exitNow: (code) => process.exit(code) })
  const clock = new StoppableClock()
  // Watched from before the start: a SIGTERM while the log replays or bootstrap runs killed the process outright
  // (exit 143, no clean close of the log, no shutdown snapshot). Now the start finishes, intake never opens, and the
  // gateway stops as at any shutdown; a second signal still ends the process at once.
  const signal = waitForStopSignal()
  let signalled: string | null = null
  void signal.then((name) => {
    signalled = name
  })
  log(`starting: config mode ${config.mode}, data ${config.dataDir}, log durability ${config.wal.durability}`)
  // Seals need a key: a single paper or shadow node without one configured uses the data dir's local key (made once).
  const audit = await withLocalSealKey(config.audit, { dataDir: config.dataDir, mode: config.mode })
  if (audit.signingKeyFile !== config.audit.signingKeyFile) log(`seals signed with the local key ${audit.signingKeyFile} (not an HSM/KMS key; audit.signingKeyFile names your own)`)
  let served: Awaited<ReturnType<typeof startServeGateway>>
  try {
    served = await startServeGateway(config, {
      audit,
      clock,
      buildCommit,
      onError: (error, context) => log(`error: ${context}: ${error instanceof Error ? error.message : String(error)}`),
      log,
    })
  } catch (error) {
    // Gateway.start closes what it opened when a step fails, but not the timers on serve's clock (the sim venue's, the
    // back office's flushes) nor the verifier's: a start whose log failed (a write or fsync of bootstrap's records) said
    // so and then never exited, retrying its query model writes, and no supervisor restarted it.
    clock.cancelAll()
    verifier.close()
    // A second `npm start` on the same data directory: the lock's words, with its code and the way out.
    if (error instanceof WalLockedError) throw logLockedRefusal(error.message, config)
    // As once serving (exit 74): a restart recovers from what the disk holds.
    const logFailure = syncFailureOf(error) ?? (error instanceof WalFatalError ? error : null)
    if (logFailure !== null) {
      log(`the log failed during the start: ${logFailure.code}: ${logFailure.message}; exiting so that a restart recovers from the log`)
      return EXIT_LOG_FAILED
    }
    throw error
  }
  const { gateway, digest } = served
  if (signalled !== null) {
    log(`${signalled} during start-up: stopping before intake opens`)
    await stopGatewayWithin(served.stop(), gateway, log, () => (gateway.engine.wal.fatalError !== null ? EXIT_LOG_FAILED : EXIT_FAILURE))
    clock.cancelAll()
    verifier.close()
    return stoppedExit(gateway, log)
  }
  for (const fix of served.fixVenues) {
    log(`FIX venue ${fix.name}: session ${fix.adapter.session.id} ${fix.adapter.session.state}, sequence numbers kept in the log (loaded from the ${fix.store.loadedFrom})`)
  }
  const report = gateway.bootstrapReport
  log(`log replayed to LSN ${gateway.engine.wal.lastLsn}; config digest ${digest} recorded; bootstrap: ${JSON.stringify(report)}`)
  // Collections paced by the gateway (config `collector`): started once serve listens, stopped when intake stops.
  const pacer = new CollectorPacer(collectorConfigOf(config), {
    recordsNow: () => gateway.engine.wal.lastLsn,
    activityNow: () => http.services.requests.started,
    busy: () => gateway.snapshotter.busy,
  })
  const http = createHttpService({
    gateway,
    verifier,
    configDigest: digest,
    collectorPacing: pacer.stats,
    backpressure: config.backpressure,
    sse: config.sse,
    storage: config.storage,
    say: log,
    ...(cursorSecret === undefined ? {} : { cursorSecret }),
    ...(serviceRoutes === undefined ? {} : { serviceRoutes }),
    log: (message, error) => log(`${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
  })
  // The first free-space reading before the first request, so neither /metrics nor the floor starts without one; a
  // statfs that does not answer within one check interval (a hung mount) is the watch's to report, not a start to hang.
  await firstDiskReading(http.services.disk, storageConfigOf(config).checkEveryMs)
  let server: ReturnType<typeof Bun.serve>
  try {
    server = serveOn(config, (request) => http.app.fetch(request))
  } catch (error) {
    // The port is taken or the host cannot be bound. The gateway is running by now (its threads, timers and the log's
    // lock): left so, the process printed the error and hung for good, holding the data dir. Stopped, it exits 1.
    // The last line names the address: Bun's own message ("ENOENT: no such file or directory, listen" for a host name
    // that does not resolve) did not.
    const cannotListen = `cannot listen on ${config.host}:${config.port}: ${error instanceof Error ? error.message : String(error)}`
    log(`${cannotListen}; stopping the gateway`)
    await served.stop()
    clock.cancelAll()
    http.close()
    verifier.close()
    throw listenRefusal(error, config)
  }
  const url = httpUrlOf(config.host, server.port as number)
  log(`listening on ${url}`)
  pacer.start()
  // The mode in force: a restart never takes the config's mode past the log's (src/runtime/start-mode.ts).
  const mode = gateway.engine.state.mode
  if (mode !== config.mode) log(`mode in force: ${mode} (the log's; the config asks ${config.mode}, an escalation needs POST /v1/admin/mode)`)
  // The banner invites orders in paper mode: by the mode in force, not the config's (shadow in force sends nothing).
  if (mode === 'paper') io.out(paperBanner(config, url, { configPath, hs256SecretFromEnv: (io.env[HS256_SECRET_ENV] ?? '') !== '' }))

  const stopping = await Promise.race([signal, gateway.engine.wal.died])
  // A failed log: the batch being written may never reach the disk, yet the state in memory already holds it, so
  // nothing more is decided or answered from it. Intake stops, the requests in flight (their writes failed with the
  // log) get their 503 for up to FAILED_GRACE_MS, and the process exits for a restart, which recovers from the log.
  const logFailed = stopping instanceof Error
  if (logFailed) log(`the log failed: ${stopping.message}; closing connections and exiting so that a restart recovers from the log`)
  else log(`${stopping}: stopping intake, closing streams, draining the log`)
  http.drain()
  pacer.stop()
  await Bun.sleep(INTAKE_CLOSE_READ_MS)
  await stopWithin(server, logFailed ? FAILED_GRACE_MS : SHUTDOWN_GRACE_MS)
  await stopGatewayWithin(served.stop().catch((error: unknown) => {
    if (!logFailed) throw error
    log(`stopping after the log failed: ${error instanceof Error ? error.message : String(error)}`)
  }), gateway, log, () => (logFailed || gateway.engine.wal.fatalError !== null ? EXIT_LOG_FAILED : EXIT_FAILURE))
  clock.cancelAll()
  http.close()
  verifier.close()
  if (logFailed) return EXIT_LOG_FAILED
  return stoppedExit(gateway, log)
}

/**
 * Waits for the gateway's stop while it makes progress (stop-watch.ts, GATEWAY_STOP_BOUNDS). Cut, a step is stuck (a
 * disk whose sync never answers) and the process exits 1 (74 after the log failed; `exitCode` is read then) saying so;
 * it waited for good before, holding the data dir. Every acknowledged record was synced before its answer: the exit
 * loses none, and a restart recovers from the log.
 */
async function stopGatewayWithin(stop: Promise<void>, gateway: ServeGateway['gateway'], log: (line: string) => void, exitCode: () => number): Promise<void> {
  const end = await watchStop(stop, () => gateway.stopProgress, GATEWAY_STOP_BOUNDS)
  if (end === 'stopped') return
  log(stopCutLine(end, GATEWAY_STOP_BOUNDS))
  process.exit(exitCode())
}

/**
 * The exit status of a stop that began cleanly (a signal, during the start or after): 74 when the log died while
 * stopping — a failed fsync of the shutdown snapshot (Snapshotter) or of the close's trim (Wal.close). Every
 * acknowledged record was synced before, but a failed fsync is never reported as a clean stop. A signal during the
 * start said "stopped cleanly", exit 0, past one.
 */
function stoppedExit(gateway: ServeGateway['gateway'], log: (line: string) => void): number {
  const stopFailure = gateway.engine.wal.fatalError
  if (stopFailure !== null) {
    log(`the log failed while stopping: ${stopFailure.message}`)
    return EXIT_LOG_FAILED
  }
  log(`stopped cleanly at LSN ${gateway.engine.wal.lastLsn}`)
  return EXIT_OK
}

/** Resolves once the watch has its first reading, or after `waitMsMax` (its timer unref'd: it keeps no process alive). */
async function firstDiskReading(disk: DiskWatch, waitMsMax: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, waitMsMax)
    timer.unref()
  })
  await Promise.race([disk.refresh(), waited])
  clearTimeout(timer)
}

/** The config's key files, read and checked as the start will: an error names the field and its env variable. */
async function checkKeyFiles(config: Config): Promise<void> {
  if (config.auth.jwksFile !== undefined) {
    try {
      checkJwksFile(config.auth.jwksFile)
    } catch (error) {
      throw new Error(`auth.jwksFile (EGRESS_JWKS_FILE): ${error instanceof JwksError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}`)
    }
  }
  if (config.audit.signingKeyFile !== undefined) {
    try {
      await loadSigningKey(config.audit.signingKeyFile)
    } catch (error) {
      throw new Error(`audit.signingKeyFile: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
}
