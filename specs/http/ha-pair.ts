/**
 * An HA pair in one process, wired as `egress serve --role` wires a node (src/cli/serve-ha.ts): an HaNode whose
 * gateways come from startServeGateway (paper, the in-process sim venue, the config's digest), and an HTTP service
 * around whichever gateway the node has now, built on every gateway change, with the node's status as /health → ha.
 * Each node is served on loopback (a standby pulls the log from the leader's advertised URL) and asked with
 * app.request. The two nodes share a lease directory and the HS256 secret of specs/http/fixture.ts.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { answerWhileStarting } from '../../src/cli/serve-ha.ts'
import { createVerifier, mintHs256Token, type Role } from '../../src/http/auth/index.ts'
import { createHttpService, type HttpService } from '../../src/http/index.ts'
import { HaNode, type SyncPolicy } from '../../src/runtime/ha/index.ts'
import { SECRET } from './fixture.ts'

const REPLICATION_TOKEN = 'ha-pair-replication-token-0123456789'
const LEASE_TTL_MS = 1_000

export interface PairNode {
  node: HaNode
  /** The node's HTTP service now (the one around its current gateway); null before its first gateway. */
  http: () => HttpService | null
  request: (path: string, init?: RequestInit) => Promise<Response>
  stop: () => Promise<void>
}

export interface HaPair {
  /** Started first, with role auto: takes the free lease and leads. */
  first: PairNode
  /** Started second, with role auto: finds the lease held and follows the first. */
  second: PairNode
  token: (options: { sub: string; roles: Role[]; accounts: string[] }) => Promise<string>
  /** Stops both nodes (the first may be stopped already) and removes their directories. */
  stop: () => Promise<void>
}

export async function startHaPair(options: { sync: SyncPolicy }): Promise<HaPair> {
  const leaseDir = mkdtempSync(join(tmpdir(), 'egress-ha-pair-lease-'))
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 1000 })
  const first = await startPairNode('node-a', leaseDir, verifier, options.sync)
  const second = await startPairNode('node-b', leaseDir, verifier, options.sync)
  return {
    first,
    second,
    token: ({ sub, roles, accounts }) => mintHs256Token(SECRET, { sub, roles, accounts, issuer: 'egress', audience: 'egress-api', ttlSec: 600 }),
    stop: async () => {
      await second.stop()
      await first.stop()
      verifier.close()
      rmSync(leaseDir, { recursive: true, force: true })
    },
  }
}

async function startPairNode(nodeId: string, leaseDir: string, verifier: ReturnType<typeof createVerifier>, sync: SyncPolicy): Promise<PairNode> {
  const dataDir = mkdtempSync(join(tmpdir(), `egress-ha-pair-${nodeId}-`))
  const config = parseConfig({
    dataDir,
    wal: { durability: 'none' },
    auth: { hs256Secret: SECRET },
    accounts: [
      { id: 'demo-1', balances: { USD: '1000000', BTC: '10', ETH: '100' } },
      { id: 'demo-2', balances: { USD: '1000' } },
    ],
  })
  const current: { http: HttpService | null } = { http: null }
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => current.http?.app.fetch(request) ?? answerWhileStarting(request) })
  const clock = new StoppableClock()
  const node: HaNode = new HaNode({
    nodeId,
    advertiseUrl: `http://127.0.0.1:${server.port}`,
    dataDir,
    leaseDir,
    leaseTtlMs: LEASE_TTL_MS,
    clockSkewMsMax: 50,
    role: 'auto',
    replicationToken: REPLICATION_TOKEN,
    sync: { policy: sync, timeoutMs: 1_000, waitersMax: 64 },
    replication: { backoffMsMin: 10, backoffMsMax: 100, envelopeBytesMax: 1024 * 1024, silenceMsMax: LEASE_TTL_MS },
    log: () => {},
    startGateway: async (gatewayRole, lease, beforeBootstrap) => {
      const started = await startServeGateway(config, {
        clock,
        buildCommit: 'spec',
        wal: { preallocateBytes: 0 },
        onError: () => {},
        role: gatewayRole,
        ...(beforeBootstrap === undefined ? {} : { beforeBootstrap }),
        ...(lease === null ? {} : { lease }),
        haLeader: () => node.isLeader(),
      })
      return started.gateway
    },
    onGateway: (gateway) => {
      const previous = current.http
      current.http = createHttpService({
        gateway,
        verifier,
        configDigest: gateway.options.configDigest,
        backpressure: config.backpressure,
        sse: config.sse,
        role: () => node.role,
        ha: {
          replicationToken: REPLICATION_TOKEN,
          isLeader: () => node.isLeader(),
          leaderUrl: () => node.leaderUrl(),
          status: () => node.status(),
          chunkBytesMax: 1024 * 1024,
          heartbeatMs: 200,
          ...(node.sync === null ? {} : { sync: node.sync }),
        },
        log: () => {},
      })
      previous?.close()
    },
  })
  await node.start()
  let stopped = false
  return {
    node,
    http: () => current.http,
    request: async (path, init) => current.http?.app.request(path, init) ?? answerWhileStarting(new Request(`http://127.0.0.1${path}`, init)),
    stop: async () => {
      if (stopped) return
      stopped = true
      await node.stop()
      void server.stop(true)
      clock.cancelAll()
      current.http?.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
