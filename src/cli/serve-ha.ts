/**
 * `egress serve` with a lease directory: one node of a leader/standby pair (src/runtime/ha/node.ts). The HTTP server
 * starts first and follows the node's current gateway — a standby's (reads, SSE, NOT_LEADER for writes, no
 * replication served) or, after a takeover, the leader's (intake and the replication stream). Until the first gateway
 * is up, every request but /health/live gets 503.
 *
 * Filesystem and clock assumptions of the shared lease directory: see wal/lease.ts (link/rename atomic and durable,
 * host clocks within --clock-skew-ms of each other).
 */

import { join } from 'node:path'
import { collectorConfigOf, directoryProblem, haCursorSecret, type Config } from '../config/index.ts'
import type { ServiceRoutesAuth, Verifier } from '../http/auth/index.ts'
import { createHttpService, type ErrorBody, type HttpService, type LiveBody } from '../http/index.ts'
import { HaNode, NodeStoppingError, SYNC_POLICIES, syncFailureOf, type RoleChoice, type SyncPolicy } from '../runtime/ha/index.ts'
import { sourceUrlOf } from '../runtime/backup/source-url.ts'
import { CollectorPacer } from '../runtime/collector-pacing.ts'
import { SnapshotStore } from '../runtime/snapshot/index.ts'
import { JsonlVenueClient } from '../venues/jsonl/index.ts'
import { NODE_ID_CHARS_MAX, NODE_ID_PATTERN, nodeIo, WalFatalError } from '../../wal/index.ts'
import { EXIT_FAILURE, EXIT_IO_ERROR, EXIT_OK, integerOption, UsageError, type CliIo } from './command.ts'
import { httpUrlOf, startServeGateway } from './serve-gateway.ts'
import { StoppableClock } from './stoppable-clock.ts'
import { FAILED_GRACE_MS, SHUTDOWN_GRACE_MS, STOPPED_NODE_GRACE_MS, stopWithin } from './server-stop.ts'
import { listenRefusal, serveOn } from './serve-refusals.ts'

export interface HaFlags {
  role: string | undefined
  leaseDir: string | undefined
  nodeId: string | undefined
  advertiseUrl: string | undefined
  leaseTtlMs: string | undefined
  clockSkewMs: string | undefined
  venue: string | undefined
  syncReplication: string | undefined
  syncTimeoutMs: string | undefined
  /** --accept-data-loss: may take the lease with a log below the lease record's floor (src/runtime/ha/takeover-guard.ts). */
  acceptDataLoss?: boolean | undefined
}

export interface ServeHaDeps {
  config: Config
  verifier: Verifier
  /** Config auth.protectServiceRoutes, resolved (serviceRoutesAuthFromConfig); undefined: the service routes are open. */
  serviceRoutes?: ServiceRoutesAuth | undefined
  buildCommit: string
  log: (line: string) => void
  io: CliIo
  waitForSignal: () => Promise<string>
  /**
   * Ends the process now (serve: process.exit). Used when stop() gave up on a role change (STOP_TIMEOUT): that change
   * would otherwise keep the event loop alive, and act, after the node said it stopped.
   */
  exitNow: (code: number) => void
}

const ROLES: readonly RoleChoice[] = ['auto', 'leader', 'standby']
/** Writes waiting for the standby at once (beyond it a write is answered as unconfirmed, not queued). */
const SYNC_WAITERS_MAX = 4_096

/** The HA flags checked (parseHaFlags), with the replication token from the environment. */
export interface HaSettings {
  role: RoleChoice
  leaseDir: string
  nodeId: string | undefined
  advertiseUrl: string | undefined
  token: string
  /** What this node seals list cursors with: derived from the token, never the token itself (config/ha-cursor-secret.ts). */
  cursorSecret: string
  leaseTtlMs: number
  clockSkewMsMax: number
  venueAddress: { hostname: string; port: number } | null
  syncPolicy: SyncPolicy
  syncTimeoutMs: number
  acceptDataLoss: boolean
}

/**
 * Checks the HA flags and the replication token, throwing UsageError on the first mistake. Called before the config
 * is loaded: a usage error is the command line's, and is reported as one whatever the config (or its absence) holds.
 */
export function parseHaFlags(flags: HaFlags, env: CliIo['env']): HaSettings {
  const role = (flags.role ?? 'auto') as RoleChoice
  if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(flags.role)}`)
  if (flags.leaseDir === undefined) throw new UsageError('--role needs --lease-dir (the lease directory shared by the nodes)')
  // Empty, the lease was taken in the working directory (review); a file there fails only after the data dir was written.
  if (flags.leaseDir.trim() === '') throw new UsageError('--lease-dir is empty; give the lease directory shared by the nodes')
  refuseLeaseDirPath(flags.leaseDir)
  const token = env.EGRESS_REPLICATION_TOKEN ?? ''
  if (token.length < 16) throw new UsageError('HA needs EGRESS_REPLICATION_TOKEN (a shared secret of at least 16 characters)')
  const leaseTtlMs = integerOption('lease-ttl-ms', flags.leaseTtlMs, 5_000, [200, 600_000])
  const clockSkewMsMax = integerOption('clock-skew-ms', flags.clockSkewMs, 500, [0, 60_000])
  const venueAddress = parseVenue(flags.venue)
  const syncPolicy = (flags.syncReplication ?? 'off') as SyncPolicy
  if (!SYNC_POLICIES.includes(syncPolicy)) throw new UsageError(`--sync-replication must be one of ${SYNC_POLICIES.join(', ')}, got ${JSON.stringify(flags.syncReplication)}`)
  const syncTimeoutMs = integerOption('sync-timeout-ms', flags.syncTimeoutMs, 1_000, [10, 60_000])
  const nodeId = parseNodeId(flags.nodeId)
  const advertiseUrl = parseAdvertiseUrl(flags.advertiseUrl)
  // Last: the derivation costs some tens of ms, spent only once every flag is known good.
  const cursorSecret = haCursorSecret(token)
  const acceptDataLoss = flags.acceptDataLoss === true
  return { role, leaseDir: flags.leaseDir, nodeId, advertiseUrl, token, cursorSecret, leaseTtlMs, clockSkewMsMax, venueAddress, syncPolicy, syncTimeoutMs, acceptDataLoss }
}

/** The venue of the JSONL venue client an HA leader trades through (--venue). */
const HA_VENUE_CLIENT_VENUE = 'sim'

export async function runServeHa(settings: HaSettings, deps: ServeHaDeps): Promise<number> {
  const { config, log, io } = deps
  const { role, token, cursorSecret, leaseTtlMs, clockSkewMsMax, venueAddress, syncPolicy, syncTimeoutMs } = settings

  // Mutable holders: the node swaps the gateway (and the HTTP service and venue client around it) on role changes.
  // `log`: the log of the node's latest gateway, read after the stop (did it die of a failed fsync while stopping?).
  // `leaderVenues`: the venues a leader start on this config serves, known once a gateway started.
  const current: { http: HttpService | null; venue: JsonlVenueClient | null; log: { fatalError: Error | null; lastLsn: number } | null; leaderVenues: ReadonlySet<string> | null; snapshotting: () => boolean } = {
    http: null, venue: null, log: null, leaderVenues: null, snapshotting: () => false,
  }
  // Set once the stop begins: from then on every HTTP service the node makes (a role change while it stops) drains too.
  let intakeStopped = false
  // The log of the last gateway started: one a stop during the start stops before the node hands it over (onGateway).
  const lastStarted: { log: { fatalError: Error | null } | null } = { log: null }
  let server: ReturnType<typeof Bun.serve>
  try {
    server = serveOn(config, (request) => (current.http === null ? answerWhileStarting(request) : current.http.app.fetch(request)))
  } catch (error) {
    // The typed refusal a single node gives (LISTEN_FAILED with the way out), not Bun's bare message (review).
    deps.verifier.close()
    throw listenRefusal(error, config, { gatewayStarted: false })
  }
  const advertiseUrl = settings.advertiseUrl ?? httpUrlOf(config.host, server.port as number)
  const nodeId = settings.nodeId ?? `${config.host}:${server.port}`
  const clock = new StoppableClock()
  // Collections paced by the node (config `collector`): a standby's replica log counts as a leader's does. A swapped
  // gateway's log at a lower position is counted from there; at a higher one, the first tick may collect at once.
  const pacer = new CollectorPacer(collectorConfigOf(config), {
    recordsNow: () => current.log?.lastLsn ?? 0,
    activityNow: () => current.http?.services.requests.started ?? 0,
    // A role change (the node starting, promoting, stepping down) or a snapshot under way is never a lull.
    busy: () => (node.role !== 'leader' && node.role !== 'standby') || current.snapshotting(),
  })
  const node: HaNode = new HaNode({
    nodeId,
    advertiseUrl,
    dataDir: config.dataDir,
    leaseDir: settings.leaseDir,
    leaseTtlMs,
    clockSkewMsMax,
    role,
    replicationToken: token,
    sync: { policy: syncPolicy, timeoutMs: syncTimeoutMs, waitersMax: SYNC_WAITERS_MAX },
    acceptDataLoss: settings.acceptDataLoss,
    replication: { backoffMsMin: 20, backoffMsMax: 1_000, envelopeBytesMax: 8 * 1024 * 1024, silenceMsMax: Math.max(1_000, leaseTtlMs) },
    log,
    startGateway: async (gatewayRole, lease, beforeBootstrap) => {
      current.venue?.close()
      current.venue = null
      if (gatewayRole === 'leader' && venueAddress !== null) {
        current.venue = await JsonlVenueClient.connect({
          venue: HA_VENUE_CLIENT_VENUE, ...venueAddress, requestTimeoutMs: 2_000, pendingMax: 1_024, reconnectMsMax: 1_000, connectWaitMs: 10_000, clientName: nodeId, log,
          // The sim venue pushes prices every 200 ms (sim-venue.ts): silent for 5 s, the connection is half-open.
          silenceMsMax: 5_000,
        })
      }
      const client = current.venue
      const venue = client === null ? {} : { venue: { adapter: client, prices: client } }
      const started = await startServeGateway(config, {
        clock,
        buildCommit: deps.buildCommit,
        onError: (error, context) => log(`error: ${context}: ${error instanceof Error ? error.message : String(error)}`),
        log,
        role: gatewayRole,
        ...(beforeBootstrap === undefined ? {} : { beforeBootstrap }),
        ...(lease === null ? {} : { lease }),
        haLeader: () => node.mayCallVenues(),
        ...venue,
      })
      lastStarted.log = started.gateway.engine.wal
      // What a leader start on this config serves (a standby's gateway has no venues): the venue client's venue, or the
      // in-process sim's, with the FIX venues. A standby checks its log against it (takeover-would-refuse.ts).
      current.leaderVenues = new Set([venueAddress !== null ? HA_VENUE_CLIENT_VENUE : started.venue.venue, ...started.fixVenues.map((fix) => fix.name)])
      return started.gateway
    },
    leaderVenues: () => current.leaderVenues,
    onGateway: (gateway) => {
      current.log = gateway.engine.wal
      current.snapshotting = () => gateway.snapshotter.busy
      const previous = current.http
      current.http = createHttpService({
        gateway,
        verifier: deps.verifier,
        ...(deps.serviceRoutes === undefined ? {} : { serviceRoutes: deps.serviceRoutes }),
        configDigest: gateway.options.configDigest,
        backpressure: config.backpressure,
        sse: config.sse,
        storage: config.storage,
        collectorPacing: pacer.stats,
        say: log,
        // Shared by both nodes (and kept across restarts): a list cursor handed out by either is known after a failover.
        // Derived from the token (parseHaFlags): a cursor must not be an offline test of the replication token.
        cursorSecret,
        role: () => node.role,
        ha: {
          replicationToken: token,
          nodeId,
          isLeader: () => node.isLeader(),
          leaderUrl: () => node.leaderUrl(),
          status: () => node.status(),
          chunkBytesMax: 1024 * 1024,
          heartbeatMs: Math.max(100, Math.floor(leaseTtlMs / 5)),
          ...(node.sync === null ? {} : { sync: node.sync }),
          snapshots: () => new SnapshotStore(join(gateway.options.dataDir, 'snapshots'), { io: nodeIo, keep: gateway.snapshotPolicy.keep }),
        },
        log: (message, error) => log(`${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
      })
      previous?.close()
      // A gateway brought up after the stop began (a start after a stop signal, or a role change while the stop waits
      // on its requests in flight, the server still up): no request is taken, as at any shutdown. A standby that took
      // over in that wait served 202s from a fresh service until its stop reached the gateway.
      if (intakeStopped) current.http.drain()
    },
  })
  log(`HA node ${nodeId} at ${advertiseUrl}: role ${role}, lease ${settings.leaseDir} (ttl ${leaseTtlMs} ms, skew ${clockSkewMsMax} ms), sync replication ${syncPolicy}${syncPolicy === 'off' ? '' : ` (timeout ${syncTimeoutMs} ms)`}`)
  if (settings.acceptDataLoss) {
    log('--accept-data-loss: this node may take the lease with a log below what a standby of the last leader held (acknowledged orders beyond its log are then lost); for recovery when no better copy is left, never for normal running')
  }
  // Watched from before the start: a signal while the node started (its gateway replaying the log, a `leader` waiting
  // for the lease, a standby's first pull) killed the process outright, the lease it may have taken left to expire.
  const signal = deps.waitForSignal()
  const start = node.start()
  const startedOrSignalled = await Promise.race([start.then(() => null, () => null), signal])
  // Everything but the node and the server, once both have stopped (the venue client, the clock's timers, the HTTP
  // service, the verifier's key refresh): nothing is left to keep the process alive.
  const closeRest = (): void => {
    pacer.stop()
    current.venue?.close()
    clock.cancelAll()
    current.http?.close()
    deps.verifier.close()
  }
  if (startedOrSignalled !== null) {
    // The stop ends what waits on the lease or the leader and lets the rest of the start finish (HaNode.stop); a
    // gateway the start still brings up takes no request (onGateway drains it).
    log(`${startedOrSignalled} during start-up: stopping the node before it serves`)
    intakeStopped = true
    current.http?.drain()
    const stopped = await stopNode(node, log)
    const startError = await start.then(() => null, (error: unknown) => error)
    await stopWithin(server, SHUTDOWN_GRACE_MS)
    closeRest()
    if (!stopped) deps.exitNow(EXIT_FAILURE)
    return exitAfterStopAtStart(stopped, startError, lastStarted.log?.fatalError ?? null, log)
  }
  try {
    await start
  } catch (error) {
    // The node could not start (an interrupted swap it cannot finish, a failed fsync finishing it): the listening
    // server would keep the process up answering 503 for good, so everything stops and the process exits — 74 for a
    // failed fsync (a restart recovers from what is on disk), 1 otherwise (the message says what to do).
    const syncFailure = syncFailureOf(error)
    log(`the node could not start: ${error instanceof Error ? error.message : String(error)}; exiting`)
    await server.stop(true)
    await stopNode(node, log)
    closeRest()
    return syncFailure === null ? EXIT_FAILURE : EXIT_IO_ERROR
  }
  io.out(`listening on ${advertiseUrl} as ${node.role}`)
  pacer.start()

  // A node that stopped for good exits for a restart: 74 when an fsync failed (setting a diverged log aside, installing
  // a snapshot) or its log died of a failed write, as `egress serve` does (the restart recovers from the disk), 1 when
  // it could not follow again (FOLLOW_FAILED).
  const stopping = await Promise.race([signal, node.died])
  const failed = typeof stopping !== 'string'
  log(failed ? `the node failed: ${stopping.message}; exiting so that a restart recovers` : `${stopping}: stopping`)
  pacer.stop()
  intakeStopped = true
  current.http?.drain()
  // The requests in flight get their grace to be answered, then the node stops, then the server: a leader's stop hands
  // its log's tail (the stop's own records, the shutdown seal) to the standby over the replication routes, which stay
  // served while draining (ha/tail-handoff.ts). The server used to close first, the replication stream with it, and the
  // standby took over without what the stop wrote.
  await current.http?.settled(failed ? FAILED_GRACE_MS : SHUTDOWN_GRACE_MS)
  const stopped = await stopNode(node, log)
  await stopWithin(server, STOPPED_NODE_GRACE_MS)
  closeRest()
  if (!stopped) deps.exitNow(EXIT_FAILURE)
  // The log died while the node stopped (a failed fsync of the shutdown snapshot, or of the log's close): every
  // acknowledged record was synced before, but a failed fsync is never reported as a clean stop (as `egress serve`).
  const stopFailure = current.log?.fatalError ?? null
  if (!failed && stopped && stopFailure instanceof WalFatalError) {
    log(`the log failed while stopping: ${stopFailure.message}`)
    return EXIT_IO_ERROR
  }
  if (!failed) return stopped ? EXIT_OK : EXIT_FAILURE
  return syncFailureOf(stopping) !== null || stopping instanceof WalFatalError ? EXIT_IO_ERROR : EXIT_FAILURE
}

/**
 * The exit status of a node stopped by a signal during its start: 0 when the start finished or was cut short by the
 * stop (NODE_STOPPING), as at any clean stop; else as a start that failed on its own — 74 for a failed fsync (a restart
 * recovers from what is on disk), 1 otherwise, and 1 when the stop itself did not end cleanly (stopNode said why); 74
 * when the log died while the node stopped (it said "stopped cleanly", exit 0, past a failed fsync).
 */
function exitAfterStopAtStart(stopped: boolean, startError: unknown, stopFailure: unknown, log: (line: string) => void): number {
  if (startError !== null && !(startError instanceof NodeStoppingError)) {
    log(`the node could not start: ${startError instanceof Error ? startError.message : String(startError)}; exiting`)
    return syncFailureOf(startError) === null ? EXIT_FAILURE : EXIT_IO_ERROR
  }
  if (!stopped) return EXIT_FAILURE
  // The log died while the node stopped (the shutdown snapshot's fsync, the close's): as after a running node's stop.
  if (stopFailure instanceof WalFatalError) {
    log(`the log failed while stopping: ${stopFailure.message}`)
    return EXIT_IO_ERROR
  }
  log('stopped cleanly')
  return EXIT_OK
}

/**
 * Stops the node; false, having said why, when a role change outlived stop()'s wait (STOP_TIMEOUT) or a step of the
 * teardown failed (the lease is released all the same): the process exits 1 at once then (deps.exitNow), ending a
 * change where it stands (a restart finishes or rolls back what it left in the data dir).
 */
async function stopNode(node: HaNode, log: (line: string) => void): Promise<boolean> {
  try {
    await node.stop()
    return true
  } catch (error) {
    log(`the node did not stop cleanly: ${error instanceof Error ? error.message : String(error)}; exiting`)
    return false
  }
}

/**
 * Every answer but /health/live's until the node's first gateway is up (its 503 is documented for /health too). Both
 * bodies are typed as the document's (the Error component is tied to ErrorBody, /health/live to LiveBody), so tsc fails
 * when either parts from it.
 */
export function answerWhileStarting(request: Request): Response {
  if (new URL(request.url).pathname === '/health/live') return Response.json({ live: true } satisfies LiveBody)
  const body: ErrorBody = { error: { code: 'UNAVAILABLE', message: 'the node is starting', details: {} } }
  return Response.json(body, { status: 503, headers: { 'Retry-After': '1' } })
}

/**
 * The node id, written into the lease with the advertise URL after it: at most NODE_ID_CHARS_MAX characters, no control
 * characters. A 100,000-character one stopped the node with node's "ENAMETOOLONG: name too long, open …" (the lease's
 * temp file is named after it); one with a line break went into the lease and split every log line that names it.
 */
function parseNodeId(nodeId: string | undefined): string | undefined {
  if (nodeId === undefined) return undefined
  if (!NODE_ID_PATTERN.test(nodeId)) {
    throw new UsageError(`--node-id: expected 1 to ${NODE_ID_CHARS_MAX} characters, no control characters, got ${JSON.stringify(nodeId.slice(0, 40))}${nodeId.length > 40 ? '…' : ''}`)
  }
  return nodeId
}

/**
 * The URL the other node reaches this one at: http(s), no whitespace (the lease holds "NODE_ID URL" and the follower
 * takes the last word as the URL). Taken as given before: "ftp://x" and "http://a b" started a leader no standby could
 * ever reach (it fetched "ftp://x", or "b").
 */
function parseAdvertiseUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  let parsed: URL | null = null
  try {
    parsed = /\s/.test(url) ? null : new URL(url)
  } catch {
    parsed = null
  }
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || url.length > 2048) {
    throw new UsageError(`--advertise-url: expected an http:// or https:// URL without spaces, got ${JSON.stringify(url.slice(0, 80))}`)
  }
  // What a follower takes from the lease (ha/lease-dir.ts leaderUrlIn): a URL with credentials, a query or a fragment
  // would be named by no node as the leader, and no standby would ever follow this one.
  const checked = sourceUrlOf(url)
  if ('invalid' in checked) throw new UsageError(`--advertise-url: ${checked.invalid}, got ${JSON.stringify(url.slice(0, 80))}`)
  return url
}

/**
 * Missing (the start makes it) or a directory (config/load.ts directoryProblem, as the config's directories). Only a
 * file was refused here: a path under a file, a symbolic link loop or under a link to nowhere passed (existsSync says
 * false), and the node took the data dir's lock and wrote its secrets before the lease's mkdir failed, exit 1.
 */
function refuseLeaseDirPath(dir: string): void {
  const problem = directoryProblem(dir)
  if (problem !== null) throw new UsageError(`--lease-dir ${dir}: ${problem}`)
}

function parseVenue(spec: string | undefined): { hostname: string; port: number } | null {
  if (spec === undefined) return null
  const match = /^jsonl:\/\/([^:/]+):(\d+)$/.exec(spec)
  if (match === null) throw new UsageError(`--venue must be jsonl://HOST:PORT, got ${JSON.stringify(spec)}`)
  // Out of range it passed, and the node took the lease and wrote the data dir before its venue client failed, after
  // ten seconds of "SocketOptions.port must be in the range", exit 1.
  const port = Number(match[2])
  if (!(port >= 1 && port <= 65_535)) throw new UsageError(`--venue: expected a port between 1 and 65535, got ${JSON.stringify(spec)}`)
  return { hostname: match[1] as string, port }
}
