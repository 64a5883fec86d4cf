/**
 * A real gateway for the HTTP specs: the same assembly `egress serve` runs (sim venue, paper accounts, the config's
 * digest), on a temp data directory with durability `none` for speed, wrapped in the HTTP service. Routes are driven
 * with `app.request()`; only the SSE specs start a server.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, type Config } from '../../src/config/index.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { createVerifier, mintHs256Token, type Role, type VerifierOptions } from '../../src/http/auth/index.ts'
import { createHttpService, type HttpService } from '../../src/http/index.ts'
import type { HttpLimits } from '../../src/http/services.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import type { SimVenue } from '../../src/venues/sim/index.ts'
import type { WalOptions } from '../../wal/index.ts'

export const SECRET = 'http-spec-secret-http-spec-secret-0123456789'

export interface TestGateway {
  dir: string
  config: Config
  gateway: Gateway
  venue: SimVenue
  http: HttpService
  request: (path: string, init?: RequestInit) => Promise<Response>
  token: (options: { sub?: string; roles?: Role[]; accounts?: string[] }) => Promise<string>
  stop: () => Promise<void>
}

export interface TestGatewayOptions {
  config?: Record<string, unknown>
  wal?: Partial<WalOptions>
  /** HTTP limits over the defaults (HTTP_DEFAULTS). */
  httpLimits?: Partial<HttpLimits>
  /** The clock the token verifier checks expiry against; the wall clock by default. */
  verifierNowMs?: () => number
  /** Verifier options over the fixture's (HS256 with SECRET, a 1,000-token cache): a JWKS file, the cache off. */
  verifier?: Partial<VerifierOptions>
  /** Streams one caller may hold open (HTTP_DEFAULTS.sseSubscribersPerPrincipalMax by default). */
  sseSubscribersPerPrincipalMax?: number
  /** Streams every caller may hold open together (HTTP_DEFAULTS.sseSubscribersMax by default). */
  sseSubscribersMax?: number
  /** The clock the rate buckets (new orders, reads) refill by; performance.now() by default. */
  bucketsNowMs?: () => number
  /** The data dir's free-space reader (statfs by default): a spec's own shows a disk filling up. */
  readFreeBytes?: (dir: string) => Promise<number>
  /** Where the free-space watch's lines go; nowhere by default. */
  say?: (line: string) => void
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-http-'))
  const config = parseConfig({
    dataDir: dir,
    wal: { durability: 'none' },
    auth: { hs256Secret: SECRET },
    accounts: [
      { id: 'demo-1', balances: { USD: '1000000', BTC: '10', ETH: '100' } },
      { id: 'demo-2', balances: { USD: '1000' } },
    ],
    ...options.config,
  })
  const clock = new StoppableClock()
  const errors: string[] = []
  const { gateway, venue, digest } = await startServeGateway(config, {
    clock,
    buildCommit: 'spec',
    wal: { preallocateBytes: 0, ...options.wal },
    onError: (error, context) => void errors.push(`${context}: ${String(error)}`),
  })
  const verifier = createVerifier({
    issuer: 'egress',
    audience: 'egress-api',
    clockToleranceSec: 5,
    hs256Secret: SECRET,
    jwksReloadMs: 60_000,
    tokenCacheEntriesMax: 1000,
    ...(options.verifierNowMs === undefined ? {} : { nowMs: options.verifierNowMs }),
    ...options.verifier,
  })
  const http = createHttpService({
    gateway,
    verifier,
    configDigest: digest,
    backpressure: config.backpressure,
    sse: config.sse,
    storage: config.storage,
    say: options.say ?? (() => {}),
    ...(options.readFreeBytes === undefined ? {} : { readFreeBytes: options.readFreeBytes }),
    log: () => {},
    ...(options.httpLimits === undefined ? {} : { limits: options.httpLimits }),
    ...(options.sseSubscribersPerPrincipalMax === undefined ? {} : { sseSubscribersPerPrincipalMax: options.sseSubscribersPerPrincipalMax }),
    ...(options.sseSubscribersMax === undefined ? {} : { sseSubscribersMax: options.sseSubscribersMax }),
    ...(options.bucketsNowMs === undefined ? {} : { bucketsNowMs: options.bucketsNowMs }),
  })
  return {
    dir,
    config,
    gateway,
    venue,
    http,
    request: async (path, init) => http.app.request(path, init),
    token: ({ sub = 'alice', roles = ['trader'], accounts = ['demo-1'] }) =>
      mintHs256Token(SECRET, { sub, roles, accounts, issuer: 'egress', audience: 'egress-api', ttlSec: 600 }),
    stop: async () => {
      http.close()
      verifier.close()
      await gateway.stop()
      clock.cancelAll()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export function auth(token: string, headers: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${token}`, ...headers }
}

export function post(token: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: auth(token, { 'Content-Type': 'application/json', ...headers }), body: typeof body === 'string' ? body : JSON.stringify(body) }
}

export const LIMIT_BUY = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' } as const

export async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>
}

export function errorCode(body: Record<string, unknown>): string {
  return (body.error as { code: string }).code
}

/** Waits until `predicate` holds (the executor and the sim venue run on real timers). */
export async function eventually(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const started = Date.now()
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time')
    await Bun.sleep(5)
  }
}
