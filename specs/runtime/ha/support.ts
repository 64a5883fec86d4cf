/** Shared helpers for the HA specs: a leader's replication routes on a real loopback server, and a replicator. */

import { readdirSync } from 'node:fs'
import { Hono } from 'hono'
import { Wal } from '../../../wal/index.ts'
import { Replicator, type ReplicatorOptions } from '../../../src/runtime/ha/index.ts'
import { replicationRoutes } from '../../../src/http/routes/replication.ts'
import { createErrorHandler } from '../../../src/http/errors.ts'
import type { HaHttp } from '../../../src/http/services.ts'

export const TOKEN = 'test-replication-token'

export function haHttp(overrides: Partial<HaHttp> = {}): HaHttp {
  return {
    replicationToken: TOKEN,
    isLeader: () => true,
    leaderUrl: () => null,
    status: () => {
      throw new Error('this fake HA node has no status: the spec does not ask /health')
    },
    chunkBytesMax: 64 * 1024,
    heartbeatMs: 100,
    ...overrides,
  }
}

export function replicationApp(wal: () => Wal, ha: HaHttp = haHttp()): Hono {
  const app = new Hono()
  app.onError(createErrorHandler({ log: () => {} }))
  app.route('/', replicationRoutes(ha, wal))
  return app
}

/**
 * Serves the replication routes on loopback (streaming needs a real server); `onRequest` sees every request's URL and
 * may answer it itself (a spec's failing or silent leader) by returning the response.
 */
export function serveReplication(
  wal: () => Wal,
  ha?: HaHttp,
  onRequest?: (url: URL) => Response | Promise<Response> | undefined,
): { url: string; stop: () => void } {
  const app = replicationApp(wal, ha)
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 30,
    fetch: (request) => onRequest?.(new URL(request.url)) ?? app.fetch(request),
  })
  return { url: `http://127.0.0.1:${server.port}`, stop: () => void server.stop(true) }
}

export function replicator(wal: Wal, url: () => string | null, overrides: Partial<ReplicatorOptions> = {}): Replicator {
  return new Replicator({
    wal,
    leaderUrl: url,
    token: TOKEN,
    nodeId: 'standby',
    // No lease directory here: every epoch is taken (the node reads its lease's; epoch-ceiling.test.ts).
    epochCeiling: () => Number.MAX_SAFE_INTEGER,
    backoffMsMin: 10,
    backoffMsMax: 200,
    envelopeBytesMax: 4 * 1024 * 1024,
    silenceMsMax: 1_000,
    onDiverged: () => {},
    log: () => {},
    ...overrides,
  })
}

export async function waitFor(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

/** The entries of a data dir that only a swap in progress (or one done) leaves: built, set aside, committed. */
export function swapEntries(dataDir: string): string[] {
  return readdirSync(dataDir)
    .filter((name) => name.includes('.recovering') || name.startsWith('log.') || name.startsWith('snapshots.') || name.endsWith('.commit'))
    .sort()
}
