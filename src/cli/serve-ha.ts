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
import { collectorConfigOf, type Config } from '../config/index.ts'
import type { ServiceRoutesAuth, Verifier } from '../http/auth/index.ts'
import { createHttpService, type ErrorBody, type HttpService, type LiveBody } from '../http/index.ts'
import { HaNode, NodeStoppingError, syncFailureOf } from '../runtime/ha/index.ts'
import { CollectorPacer } from '../runtime/collector-pacing.ts'
import { SnapshotStore } from '../runtime/snapshot/index.ts'
import { JsonlVenueClient } from '../venues/jsonl/index.ts'
import { nodeIo, WalFatalError } from '../../wal/index.ts'
import { EXIT_FAILURE, EXIT_IO_ERROR, EXIT_OK, type CliIo } from './command.ts'
import { httpUrlOf, startServeGateway } from './serve-gateway.ts'
import type { HaSettings } from './serve-ha-flags.ts'
import { StoppableClock } from './stoppable-clock.ts'
import { FAILED_GRACE_MS, SHUTDOWN_GRACE_MS, STOPPED_NODE_GRACE_MS, stopWithin } from './server-stop.ts'
import { listenRefusal, serveOn } from './serve-refusals.ts'

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

/** Writes waiting for the standby at once (beyond it a write is answered as unconfirmed, not queued). */
const SYNC_WAITERS_MAX = 4_096

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
