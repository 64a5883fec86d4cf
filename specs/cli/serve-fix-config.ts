/** The serve config the in-process FIX specs start from: one FIX 4.2 venue `fx` (IBM, static prices), no fsync. */

import { parseConfig, type Config } from '../../src/config/index.ts'

export function fixServeConfigAt(dir: string, venueOver: Record<string, unknown> = {}): Config {
  // The scripted acceptor answers on loopback at once: a place unanswered for 200 ms is unknown (the config's default is
  // 10 s), and an order the venue does not know is proven absent that long after its send (the grace may not be
  // shorter than the venue's request timeout: src/config/load.ts).
  const requestTimeoutMs = typeof venueOver['requestTimeoutMs'] === 'number' ? venueOver['requestTimeoutMs'] : 200
  return parseConfig({
    dataDir: dir,
    wal: { durability: 'none' },
    kernel: { reconcileGraceMs: requestTimeoutMs },
    venues: [{
      type: 'fix', name: 'fx', host: '127.0.0.1', port: 1, beginString: 'FIX.4.2', senderCompId: 'EGRESS', targetCompId: 'EXEC',
      heartbeatIntervalSeconds: 30, resetOnLogon: 'never', requestTimeoutMs, reconnectDelayMsMin: 100, reconnectDelayMsMax: 1_000, marketData: 'static',
      instruments: [{ symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10000', referencePrice: '100' }],
      ...venueOver,
    }],
  })
}
