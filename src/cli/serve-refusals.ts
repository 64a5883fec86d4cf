/**
 * The two ways a start most often fails for someone trying egress for the first time, said with a stable code first,
 * then what happened, then what to do: a second `npm start` on the same data directory (the log's lock, LOG_LOCKED)
 * and a port another program holds (LISTEN_FAILED). Before, the first printed the lock's own words without its code
 * or a way out, and the second Bun's "Failed to start server. Is port 8080 in use?" without saying how to pick
 * another port (the variable is PORT, not EGRESS_PORT, which the config refuses).
 */

import type { Config } from '../config/index.ts'
import { SERVER_IDLE_TIMEOUT_SEC, SERVER_REQUEST_BODY_BYTES_MAX } from '../http/index.ts'

/** A start refused: its message begins with its code, the one line `egress serve:` prints. */
export class StartRefusedError extends Error {
  override readonly name = 'StartRefusedError'

  constructor(
    readonly code: 'LOG_LOCKED' | 'LISTEN_FAILED',
    message: string,
  ) {
    super(`${code}: ${message}`)
  }
}

/** A port to suggest instead of the one taken: the next one, or the one before at the top of the range. */
function otherPort(port: number): number {
  return port < 65535 ? port + 1 : port - 1
}

/** The log's lock is held (WalLockedError): another gateway, or an offline command, runs on this data directory. */
export function logLockedRefusal(lockMessage: string, config: Pick<Config, 'dataDir' | 'port'>): StartRefusedError {
  const pid = /\bpid (\d+)\b/.exec(lockMessage)?.[1]
  const stop = pid === undefined ? 'stop it first (Ctrl-C in its terminal)' : `stop it first (Ctrl-C in its terminal, or kill ${pid})`
  return new StartRefusedError(
    'LOG_LOCKED',
    `${lockMessage}. Another egress is running on the data directory ${config.dataDir}: ${stop}, ` +
      `or start this one on a directory and port of its own (EGRESS_DATA_DIR=./data-2 PORT=${otherPort(config.port)})`,
  )
}

/**
 * Bun.serve refused the address. Bun names EADDRINUSE for a port in use (and, in 1.4, for a host name that does not
 * resolve too), so the hint names both the port and the host.
 */
export function listenRefusal(error: unknown, config: Pick<Config, 'host' | 'port'>, options: { gatewayStarted: boolean } = { gatewayStarted: true }): StartRefusedError {
  const cause = error instanceof Error ? error.message : String(error)
  const inUse = (error as { code?: unknown } | null)?.code === 'EADDRINUSE'
  const hint = inUse
    ? `another program holds the port (another egress?): start this one on a free port, PORT=${otherPort(config.port)} (config "port"), or stop that program; ` +
      'if the port is free, check that EGRESS_HOST (config "host") is an address of this machine'
    : 'check that EGRESS_HOST (config "host") is an address of this machine, and PORT (config "port") one this user may bind'
  const sentence = /[.?!]$/.test(cause) ? cause : `${cause}.`
  const done = options.gatewayStarted ? 'The gateway was stopped' : 'The gateway was not started'
  return new StartRefusedError('LISTEN_FAILED', `cannot listen on ${config.host}:${config.port}: ${sentence} ${done}; ${hint}`)
}

/**
 * Refuses (LISTEN_FAILED) an address a single node's serve could not listen on, before it writes anything: bound and
 * let go at once, as the locks are (data-dir.ts refuseLiveDataDir); the start binds it for good once the gateway is
 * up. Before, a host that is no address of this machine (EGRESS_HOST) or a port taken was found only then: the data
 * directory had been made, its secrets, seal key and log written, and bootstrap had run. An address taken in between
 * is still refused where it is bound (the gateway then stopped).
 */
export function refuseUnbindableAddress(config: Pick<Config, 'host' | 'port'>): void {
  let probe: ReturnType<typeof Bun.serve>
  try {
    probe = serveOn(config, () => new Response(null, { status: 503 }))
  } catch (error) {
    throw listenRefusal(error, config, { gatewayStarted: false })
  }
  probe.stop(true)
}

/**
 * Serves `fetch` on the config's address, as every `egress serve` does (its limits; an uncaught handler error answers
 * the one error shape, never a stack trace); throws Bun's error when the address cannot be bound (the caller stops
 * what it started, then throws listenRefusal).
 */
export function serveOn(config: Pick<Config, 'host' | 'port'>, fetch: (request: Request) => Response | Promise<Response>): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    hostname: config.host,
    port: config.port,
    idleTimeout: SERVER_IDLE_TIMEOUT_SEC,
    maxRequestBodySize: SERVER_REQUEST_BODY_BYTES_MAX,
    fetch,
    error: () => new Response(JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error', details: {} } }), { status: 500, headers: { 'Content-Type': 'application/json' } }),
  })
}
