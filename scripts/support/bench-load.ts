/**
 * The load bench:http places and probe:heap measures, defined once so the two stay the same: funded accounts, IOC
 * limit buys below the market over the three sim symbols (each accepted, sent and ended by the venue within
 * milliseconds, so open-order limits never fill up), serve's paper config with backpressure out of the way, and the
 * token that trades every account.
 */

import { mintHs256Token } from '../../src/http/auth/index.ts'

export const BENCH_SECRET = 'bench-http-secret-bench-http-secret-0123456789'
export const BENCH_ACCOUNTS = Array.from({ length: 16 }, (_, index) => `bench-${index}`)
const SYMBOLS = [
  { symbol: 'BTC-USD', price: '59000', qty: '0.001' },
  { symbol: 'ETH-USD', price: '2950', qty: '0.01' },
  { symbol: 'AAPL', price: '198', qty: '1' },
]
const BALANCES = { USD: '100000000000', BTC: '100000', ETH: '1000000', AAPL: '10000000' }

/** The body of the `index`-th order: accounts and symbols in turn. */
export function benchOrderBody(index: number): string {
  const leg = SYMBOLS[index % SYMBOLS.length] as (typeof SYMBOLS)[number]
  const account = BENCH_ACCOUNTS[index % BENCH_ACCOUNTS.length] as string
  return JSON.stringify({ account, symbol: leg.symbol, side: 'buy', type: 'limit', qty: leg.qty, price: leg.price, tif: 'IOC' })
}

/** serve's config (paper, fsync log) for the bench load, with `overrides` merged in at the top level. */
export function benchServeConfig(options: { dataDir: string; port: number }, overrides: object = {}): object {
  return {
    mode: 'paper',
    dataDir: options.dataDir,
    host: '127.0.0.1',
    port: options.port,
    wal: { durability: 'fsync' },
    auth: { hs256Secret: BENCH_SECRET },
    backpressure: { account: { ratePerSec: 1_000_000, burst: 1_000_000 }, bot: { ratePerSec: 1_000_000, burst: 1_000_000 }, read: { ratePerSec: 1_000_000, burst: 1_000_000 }, inFlightMax: 100_000 },
    accounts: BENCH_ACCOUNTS.map((id) => ({ id, balances: BALANCES })),
    // The sim keeps ended orders 5 minutes and at most 100000 by default: the bench's ~200,000 orders in under a minute
    // would fill it, and from then on every order is rejected venue_order_limit (a shorter path than the bench's).
    // A minute (the least: serve's resend window) and room for 1,000,000.
    venues: [{ type: 'sim', ordersMax: 1_000_000, endedOrderRetentionMs: 60_000 }],
    ...overrides,
  }
}

/** A trader token for every bench account, valid an hour. */
export function benchToken(): Promise<string> {
  return mintHs256Token(BENCH_SECRET, { sub: 'bench', roles: ['trader'], accounts: BENCH_ACCOUNTS, issuer: 'egress', audience: 'egress-api', ttlSec: 3600 })
}
