/**
 * Venue health as a standby shows it (src/http/routes/venue-health.ts): the venues the log's configuration holds, each
 * at its recorded level, as the leader shows them. A standby's gateway has no venue adapter (nothing may be sent from
 * it), and the venues were taken from the adapters: its /health said `venues: {}` and /v1/venue_health listed none
 * until a level had been recorded, while the leader said `{"sim": "OK"}`.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { createVerifier, mintHs256Token } from '../../src/http/auth/index.ts'
import { createHttpService } from '../../src/http/index.ts'
import { auth, json, SECRET } from './fixture.ts'

const dir = mkdtempSync(join(tmpdir(), 'egress-venue-health-standby-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test("a standby's /health, /v1/venue_health and /metrics show the venues the leader shows, at their recorded levels", async () => {
  const config = parseConfig({ dataDir: dir, wal: { durability: 'none' }, auth: { hs256Secret: SECRET } })
  const clock = new StoppableClock()
  const onError = (error: unknown): void => void console.error(error)
  const leader = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, onError })
  await leader.stop()

  const standby = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, role: 'standby', onError })
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 10 })
  const http = createHttpService({ gateway: standby.gateway, verifier, configDigest: standby.digest, backpressure: config.backpressure, sse: config.sse, log: () => {} })
  try {
    expect(standby.gateway.role).toBe('standby')
    expect((await json(await http.app.request('/health'))).venues).toEqual({ sim: 'OK' })
    const ops = await mintHs256Token(SECRET, { sub: 'olga', roles: ['ops'], accounts: [], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
    const venues = (await json(await http.app.request('/v1/venue_health', { headers: auth(ops) }))).venues as { venue: string; level: string }[]
    expect(venues.map(({ venue, level }) => ({ venue, level }))).toEqual([{ venue: 'sim', level: 'OK' }])
    expect(await (await http.app.request('/metrics')).text()).toContain('egress_venue_health_level{venue="sim"} 0')
  } finally {
    http.close()
    verifier.close()
    await standby.stop()
    clock.cancelAll()
  }
})
