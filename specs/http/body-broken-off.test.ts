/**
 * A request body the client breaks off — it closes the connection before the body's end, or sends a chunked encoding
 * that does not parse — is the client's doing: 400 MALFORMED_REQUEST (`details.reason` body_incomplete), counted
 * under that code, and nothing is recorded. Bun ends such a body with an AbortError; read by a route (a Content-Length
 * body) or by the body bound (a chunked one), it was an opaque 500 INTERNAL, logged with its stack as an unexpected
 * error and counted as one, so any client could raise the gateway's internal-error count at will by cutting its uploads
 * short (review).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { SERVER_IDLE_TIMEOUT_SEC, SERVER_REQUEST_BODY_BYTES_MAX } from '../../src/http/index.ts'
import { auth, errorCode, eventually, json, startTestGateway, type TestGateway } from './fixture.ts'
import { parseExposition } from './metrics/exposition.ts'

let t: TestGateway
let trader: string
let ops: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ accounts: ['demo-1'] })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
})
afterAll(async () => {
  await t.stop()
})

function errorsOf(code: string): number {
  const samples = parseExposition(t.http.services.metrics.render()).families.get('egress_http_errors_total')?.samples ?? []
  return samples.find((sample) => sample.labels.code === code)?.value ?? 0
}

/** A body that sends `{"acc` and then ends as Bun ends one whose client went away. */
function brokenOff(): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream({
    pull(controller) {
      if (sent) return controller.error(new DOMException('The connection was closed.', 'AbortError'))
      sent = true
      controller.enqueue(new TextEncoder().encode('{"acc'))
    },
  })
}

describe('a body broken off (app.request)', () => {
  const cases: [string, string, () => string, Record<string, string>][] = [
    ['POST /v1/orders with a Content-Length (read by the route)', '/v1/orders', () => trader, { 'Content-Length': '100', 'Idempotency-Key': 'broken-1' }],
    ['POST /v1/orders without one (read by the body bound)', '/v1/orders', () => trader, { 'Idempotency-Key': 'broken-2' }],
    ['a kill switch with a Content-Length (readJson)', '/v1/admin/halt', () => ops, { 'Content-Length': '100' }],
  ]
  for (const [name, path, token, headers] of cases) {
    test(`${name}: 400 MALFORMED_REQUEST, nothing recorded, no INTERNAL counted`, async () => {
      const lsn = t.gateway.engine.wal.lastLsn
      const internal = errorsOf('INTERNAL')
      const init = { method: 'POST', headers: auth(token(), { 'Content-Type': 'application/json', ...headers }), body: brokenOff(), duplex: 'half' }
      const res = await t.request(path, init as RequestInit)
      expect(res.status).toBe(400)
      const body = await json(res)
      expect(errorCode(body)).toBe('MALFORMED_REQUEST')
      expect((body.error as { details: unknown }).details).toEqual({ reason: 'body_incomplete' })
      expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
      expect(t.gateway.engine.state.tradingSwitch).toBe('normal')
      expect(errorsOf('INTERNAL')).toBe(internal)
    })
  }
})

/** Writes `text` to the server and closes the connection's sending side; resolves once the server closes it too. */
function sendAndHangUp(port: number, text: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text)
      socket.end()
    })
    const timer = setTimeout(() => socket.destroy(), 2_000)
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

test('over a real connection: an upload cut short, by Content-Length or chunked, is counted MALFORMED_REQUEST, never INTERNAL', async () => {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: SERVER_IDLE_TIMEOUT_SEC,
    maxRequestBodySize: SERVER_REQUEST_BODY_BYTES_MAX,
    fetch: (request) => t.http.app.fetch(request),
  })
  try {
    const lsn = t.gateway.engine.wal.lastLsn
    const malformed = errorsOf('MALFORMED_REQUEST')
    const internal = errorsOf('INTERNAL')
    const head = `POST /v1/orders HTTP/1.1\r\nHost: egress\r\nAuthorization: Bearer ${trader}\r\nContent-Type: application/json\r\nIdempotency-Key: cut-1\r\n`
    await sendAndHangUp(server.port as number, `${head}Content-Length: 100\r\n\r\n{"account":`)
    await sendAndHangUp(server.port as number, `${head}Transfer-Encoding: chunked\r\n\r\nb\r\n{"account":\r\n`)
    await eventually(() => errorsOf('MALFORMED_REQUEST') + errorsOf('INTERNAL') >= malformed + internal + 2)
    expect(errorsOf('INTERNAL')).toBe(internal)
    expect(errorsOf('MALFORMED_REQUEST')).toBe(malformed + 2)
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  } finally {
    await server.stop(true)
  }
})
