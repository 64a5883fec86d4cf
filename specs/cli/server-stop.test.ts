/**
 * Closing the HTTP server at shutdown (src/cli/server-stop.ts), as `egress serve` and an HA node (`serve --lease-dir`)
 * both do: a request in flight is answered within the grace; one still running past it has its connection closed, and
 * the stop does not wait longer. An HA node closed every connection at once, so a client lost the answer to an order
 * whose record was already durable.
 */

import { expect, test } from 'bun:test'
import { stopWithin } from '../../src/cli/server-stop.ts'

function slowServer(answerAfterMs: number): ReturnType<typeof Bun.serve> {
  return Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: async () => {
    await Bun.sleep(answerAfterMs)
    return new Response('answered')
  } })
}

test('a request in flight is answered before the connections close', async () => {
  const server = slowServer(200)
  const answer = fetch(`http://127.0.0.1:${server.port}/`).then((response) => response.text())
  await Bun.sleep(50) // the request is in the handler
  const startedMs = performance.now()
  await stopWithin(server, 5_000)
  expect(await answer).toBe('answered')
  expect(performance.now() - startedMs).toBeLessThan(5_000)
})

test('past the grace the connections are closed and the stop returns', async () => {
  const server = slowServer(10_000)
  const answer = fetch(`http://127.0.0.1:${server.port}/`).then((response) => response.text(), () => 'cut')
  await Bun.sleep(50)
  const startedMs = performance.now()
  await stopWithin(server, 300)
  const elapsedMs = performance.now() - startedMs
  expect(elapsedMs).toBeGreaterThanOrEqual(250)
  expect(elapsedMs).toBeLessThan(5_000)
  expect(await answer).toBe('cut')
})
