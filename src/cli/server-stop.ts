/**
 * Closing the HTTP server at shutdown, for `egress serve` and an HA node alike: intake has stopped (the HTTP layer
 * drains first), and the requests in flight — a place waiting for its record to be durable, say — get a grace to be
 * answered before the connections are closed. Without it a client lost the answer to an order that was durable, and
 * had to retry its key to learn it.
 */

/** In-flight requests get this long to finish at shutdown before connections are closed. */
export const SHUTDOWN_GRACE_MS = 5_000
/** After the log (or the node) failed: how long the requests in flight get to be answered before connections are closed. */
export const FAILED_GRACE_MS = 1_000
/**
 * An HA node stopped after its requests were answered (serve-ha.ts): what is still open — a replication stream sending
 * the rest of a closed log, a refusal on its way — gets this long.
 */
export const STOPPED_NODE_GRACE_MS = 1_000

/**
 * `egress serve`, once intake has stopped: how long the server still reads before it closes its listener and idle
 * connections, so that a request a client had sent when the stop signal came is answered (503 UNAVAILABLE, Connection:
 * close, or its answer if it got in first). The listener closed in the signal's own turn of the event loop: such a
 * request was not read yet, its connection counted idle and closed, and the client got a reset with no answer (every
 * busy keep-alive connection at once, under load) — not knowing whether its order was taken.
 */
export const INTAKE_CLOSE_READ_MS = 50

/**
 * Stops accepting, waits up to `graceMs` for the requests in flight, then closes every connection. The grace timer is
 * cleared when they finish sooner: left pending, it held the process alive for the rest of the grace after "stopped
 * cleanly".
 */
export async function stopWithin(server: { stop: (closeActiveConnections?: boolean) => Promise<void> }, graceMs: number): Promise<void> {
  const grace = Promise.withResolvers<void>()
  const timer = setTimeout(grace.resolve, graceMs)
  try {
    await Promise.race([server.stop(false), grace.promise])
  } finally {
    clearTimeout(timer)
  }
  await server.stop(true)
}
