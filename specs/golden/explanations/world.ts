/**
 * A deterministic world for golden explanations: the runtime harness (simulated clock, sim venue with a frozen price
 * walk and fixed latency) wrapped in the real HTTP service, so `/v1/orders/:id/explain` is read exactly as a client
 * reads it, and every LSN, time and price in it can be derived by hand.
 */

import { parseConfig } from '../../../src/config/index.ts'
import { createVerifier, mintHs256Token, type Role } from '../../../src/http/auth/index.ts'
import { createHttpService, type HttpService } from '../../../src/http/index.ts'
import { removeDir, run, startWorld, type World } from '../../runtime/harness.ts'

const SECRET = 'golden-explanations-secret-0123456789abcdef'

export interface ExplainWorld {
  world: World
  http: HttpService
  token: (options: { sub: string; roles: Role[]; accounts: string[] }) => Promise<string>
  run: (ms: number) => Promise<void>
  stop: () => Promise<void>
}

export async function startExplainWorld(): Promise<ExplainWorld> {
  const world = await startWorld({ seed: 1, venueOptions: { latencyMsMin: 2, latencyMsMax: 2, priceStepTicksMax: 0 } })
  const config = parseConfig({})
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 100 })
  const http = createHttpService({ gateway: world.gateway, verifier, configDigest: 'sim-config', backpressure: config.backpressure, sse: config.sse, log: () => {} })
  return {
    world,
    http,
    token: ({ sub, roles, accounts }) => mintHs256Token(SECRET, { sub, roles, accounts, issuer: 'egress', audience: 'egress-api', ttlSec: 600 }),
    run: (ms) => run(world, ms),
    stop: async () => {
      http.close()
      verifier.close()
      await world.gateway.stop()
      removeDir(world.dir)
    },
  }
}
