/**
 * What Bun.serve answers before the app runs: request headers over its 16 KiB limit get a bare 431 (no body, not the
 * API's error shape), and the app is never called, so nothing in egress can give it the one error shape. The README
 * says so, with the other bound Bun.serve does not offer (connections). If a Bun upgrade starts handing such a request
 * to the app, the first test fails: the README's paragraph is then out of date.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { SERVER_IDLE_TIMEOUT_SEC, SERVER_REQUEST_BODY_BYTES_MAX } from '../../src/http/index.ts'
import { startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let appCalls = 0

beforeAll(async () => {
  t = await startTestGateway()
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: SERVER_IDLE_TIMEOUT_SEC,
    maxRequestBodySize: SERVER_REQUEST_BODY_BYTES_MAX,
    fetch: (request) => {
      appCalls++
      return t.http.app.fetch(request)
    },
  })
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

/** Sends one raw request with a header of `headerBytes` and reads until the server closes or 2 s pass. */
function rawRequest(headerBytes: number): Promise<string> {
  return new Promise((resolve) => {
    let answer = ''
    const socket = connect(server.port as number, '127.0.0.1', () => {
      socket.write(`GET /health/live HTTP/1.1\r\nHost: egress\r\nConnection: close\r\nX-Padding: ${'a'.repeat(headerBytes)}\r\n\r\n`)
    })
    const timer = setTimeout(() => socket.destroy(), 2_000)
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1')
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(answer)
    })
  })
}

test('headers over 16 KiB get Bun\'s bare 431 and never reach the app; under it the app answers', async () => {
  const small = await rawRequest(8 * 1024)
  expect(small.startsWith('HTTP/1.1 200')).toBe(true)
  expect(appCalls).toBe(1)
  const large = await rawRequest(17 * 1024)
  expect(large.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large')
  expect(large.slice(large.indexOf('\r\n\r\n') + 4)).toBe('')
  expect(appCalls).toBe(1)
})

test('the README says what Bun.serve answers or leaves unbounded before the app: the bare 431, and connections', () => {
  const readme = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8')
  expect(readme).toContain('`431 Request Header Fields Too\n  Large` with no body')
  expect(readme).toContain('there is no per-server connection limit')
})

test("the README names the idle timeout serve gives Bun.serve, where the heartbeat and the connections are described", () => {
  // The sse.heartbeatMs row said "Bun's 10 s idle timeout": Bun's default, not what serve sets.
  const readme = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8')
  const heartbeatRow = readme.split('\n').find((line) => line.startsWith('| `sse.heartbeatMs` |')) ?? ''
  expect(heartbeatRow).toContain(`${SERVER_IDLE_TIMEOUT_SEC} s idle timeout`)
  expect(heartbeatRow).not.toContain('10 s idle timeout')
  expect(readme).toContain(`bounded only by the idle timeout (${SERVER_IDLE_TIMEOUT_SEC} s without a byte)`)
})
