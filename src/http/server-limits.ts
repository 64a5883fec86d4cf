/**
 * The request-body bound handed to Bun.serve. Bun refuses a body over its own `maxRequestBodySize` before the app
 * runs, with a bare 413 and no body — not the one error shape — so that bound must never be the one a client meets.
 * The app bounds every body itself (app.ts: hono's bodyLimit refuses a declared Content-Length over bodyBytesMax
 * before reading a byte, and stops a chunked body at the bound), and Bun streams a body to the app instead of
 * buffering it (a 600 MB upload left the process at 28 MB resident), so Bun's bound is set as high as a declared
 * length goes: every oversized body gets the app's 413 PAYLOAD_TOO_LARGE.
 */
export const SERVER_REQUEST_BODY_BYTES_MAX = Number.MAX_SAFE_INTEGER

/**
 * Bun.serve's idle timeout (seconds) for the gateway's server (serve, serve --lease-dir): a connection without a byte
 * for this long is closed (Bun's default is 10). SSE heartbeats (config sse.heartbeatMs, under 10 s) keep an idle
 * stream well inside it.
 */
export const SERVER_IDLE_TIMEOUT_SEC = 30
