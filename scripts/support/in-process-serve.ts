/**
 * serve's gateway and HTTP app in one process, on the bench's config (scripts/support/bench-load.ts) with `overrides`
 * merged in, for the probes that drive them through `app.fetch` without sockets (probe:heap, probe:reconcile). Its
 * data directory is a fresh temporary one, removed by `close`.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createVerifier, verifierOptionsFromConfig } from '../../src/http/auth/index.ts'
import { createHttpService } from '../../src/http/service.ts'
import { BENCH_SECRET, benchOrderBody, benchServeConfig } from './bench-load.ts'

export interface InProcessServe {
  served: Awaited<ReturnType<typeof startServeGateway>>
  http: ReturnType<typeof createHttpService>
  clock: StoppableClock
  /** Stops the gateway, its timers and the HTTP service, and removes the data directory. */
  close(): Promise<void>
}

/** `label` names the probe in its error lines. */
export async function startInProcessServe(label: string, overrides: object = {}): Promise<InProcessServe> {
  const dir = mkdtempSync(join(tmpdir(), `egress-${label.replace(/[^a-z0-9]+/gi, '-')}-`))
  const configPath = join(dir, 'config.json')
  writeFileSync(configPath, JSON.stringify(benchServeConfig({ dataDir: join(dir, 'data'), port: 1 }, overrides)))
  const config = loadConfig({ configPath, env: {} })
  const verifier = createVerifier({ ...verifierOptionsFromConfig(config.auth, BENCH_SECRET), log: () => {} })
  const clock = new StoppableClock()
  const served = await startServeGateway(config, { clock, buildCommit: label, onError: (error, context) => console.error(`${label}:`, context, error) })
  const http = createHttpService({ gateway: served.gateway, verifier, configDigest: served.digest, backpressure: config.backpressure, sse: config.sse, log: () => {} })
  return {
    served,
    http,
    clock,
    close: async () => {
      try {
        await served.stop()
      } finally {
        clock.cancelAll()
        http.close()
        verifier.close()
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

export interface PlaceOptions {
  /** A token from benchToken(). */
  token: string
  /** The index of the first order (its body and its Idempotency-Key `${keyPrefix}-${index}`); the rest follow. */
  firstIndex: number
  count: number
  keyPrefix: string
  /** Requests outstanding at once. */
  concurrency: number
  /** performance.now() past which placing gives up with an error (a stuck gateway must not hang a probe). */
  deadlineMs: number
}

/**
 * Places `count` of the bench's orders through the HTTP app. LANE_FULL (429) answers are retried, so every order
 * counted is one the gateway accepted; any other status than 202 throws. Returns the next unused index.
 */
export async function placeBenchOrders(serve: InProcessServe, options: PlaceOptions): Promise<number> {
  let next = options.firstIndex
  const end = options.firstIndex + options.count
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (next < end) {
      const index = next++
      const body = benchOrderBody(index)
      // Content-Length as a client on a socket sends it: without it the body limit reads the body as a stream, work
      // (~8 % of the main thread in a profile) serve never does for bench:http's requests.
      const headers = { Authorization: `Bearer ${options.token}`, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'Idempotency-Key': `${options.keyPrefix}-${index}` }
      for (;;) {
        const response = await serve.http.app.fetch(new Request('http://probe/v1/orders', { method: 'POST', headers, body }))
        await response.arrayBuffer()
        if (response.status === 202) break
        if (response.status !== 429) throw new Error(`POST /v1/orders answered ${response.status}`)
        if (performance.now() > options.deadlineMs) throw new Error('placing the orders took longer than the deadline')
        await Bun.sleep(1)
      }
    }
  }))
  return end
}
