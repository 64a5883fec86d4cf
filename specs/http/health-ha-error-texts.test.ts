/**
 * `/health` → `ha` carries error texts naming the data dir and its files, as `log.error` does: `failure` (a failed
 * fsync of a swap: `FSYNC_FAILED: fsync of /srv/egress/data/log …`; a log that died), `last_divergence.error` and
 * `.fallback`, `last_snapshot_recovery.error`, and `moved_to` (where an old log went: a path in the data dir). With
 * auth.protectServiceRoutes off, a caller without a service reader's token (ops, auditor, admin) gets the stable codes
 * alone and each `moved_to` as its name in the data dir; a service reader gets them as they are (review: anyone did).
 * The status is built by the node's own mapping (nodeStatusOf) from the errors a node keeps.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Hono } from 'hono'
import { SyncFailedError, WalFatalError } from '../../wal/index.ts'
import { createApp } from '../../src/http/app.ts'
import type { AuthEnv } from '../../src/http/auth/index.ts'
import type { HaNodeStatus } from '../../src/runtime/ha/index.ts'
import { nodeStatusOf, type NodeStatusSource } from '../../src/runtime/ha/node-status.ts'
import { haHttp } from '../runtime/ha/support.ts'
import { auth, json, startTestGateway, type TestGateway } from './fixture.ts'

const DATA_DIR = '/srv/egress/data'

let t: TestGateway
let open: Hono<AuthEnv>
let guarded: Hono<AuthEnv>

/** A node that failed of an fsync in a swap, after a divergence whose setting aside failed and a failed snapshot recovery. */
function statusOf(failure: Error, recovery: NodeStatusSource['lastSnapshotRecovery']): HaNodeStatus {
  const source: NodeStatusSource = {
    role: 'failed',
    gateway: null,
    lease: null,
    sync: null,
    lastTakeoverMs: null,
    lastTakeoverLag: null,
    lastDivergence: {
      outcome: 'failed', commonLsn: 40, discardedFromLsn: 41, discardedToLsn: 48, discardedCount: 8, discardedEpochs: [2], discardedEpochCount: 1,
      discardedExamples: [{ lsn: 41, epoch: 2 }], movedTo: `${DATA_DIR}/log.diverged-1700000000000`, keptPrefixToLsn: null, linkedSegments: 0, linkedBytes: 0,
      copiedSegments: 0, copiedBytes: 0, snapshotsKept: [], buildMs: 0,
      fallback: `PREFIX_BUILD_FAILED: EIO: i/o error, link '${DATA_DIR}/log/00000000000000000001.seg'`,
      error: `FSYNC_FAILED: fsync of ${DATA_DIR} failed in a data dir swap (EIO)`,
    },
    lastSnapshotRecovery: recovery,
    failure,
  }
  return nodeStatusOf(source, { nodeId: 'node-a', advertiseUrl: 'http://127.0.0.1:1', syncPolicy: 'off', leaderUrl: null, replication: undefined, leading: false, takeoverRefused: null, takeoverWouldRefuse: null })
}

let status: HaNodeStatus

beforeAll(async () => {
  t = await startTestGateway()
  const services = { ...t.http.services, ha: haHttp({ status: () => status }) }
  open = createApp(services)
  guarded = createApp({ ...services, serviceRoutes: { scrapeToken: null } })
})
afterAll(async () => t.stop())

const SWAP_FAILED = new SyncFailedError(`${DATA_DIR}/log`, new Error('EIO'), { during: 'in a data dir swap' })
const RECOVERY_FAILED = { state: 'failed', atMs: 1, leaderFirstLsn: 30, code: 'FSYNC_FAILED', error: `FSYNC_FAILED: fsync of ${DATA_DIR}/snapshots failed` } as const

async function haOf(app: Hono<AuthEnv>, token?: string): Promise<HaNodeStatus> {
  const response = await app.request('/health', token === undefined ? {} : { headers: auth(token) })
  return (await json(response)).ha as unknown as HaNodeStatus
}

test('open: without a service reader token, the codes alone and no path of the data dir', async () => {
  status = statusOf(SWAP_FAILED, RECOVERY_FAILED)
  const trader = await t.token({ roles: ['trader'], accounts: ['demo-1'] })
  for (const token of [undefined, trader, 'not-a-token']) {
    const ha = await haOf(open, token)
    expect(JSON.stringify(ha)).not.toContain('/srv/egress')
    expect(ha.failure).toBe('FSYNC_FAILED')
    expect(ha.last_divergence).toMatchObject({ outcome: 'failed', common_lsn: 40, error: 'FSYNC_FAILED', fallback: 'PREFIX_BUILD_FAILED', moved_to: 'log.diverged-1700000000000' })
    expect(ha.last_snapshot_recovery).toMatchObject({ state: 'failed', code: 'FSYNC_FAILED', error: 'FSYNC_FAILED' })
  }
})

test('open: a log that died (WalFatalError, no code in its message) is WAL_FATAL; a recovered node shows where its old log went by name', async () => {
  status = statusOf(new WalFatalError(`log write failed: EIO writing ${DATA_DIR}/log/00000000000000000001.seg`), {
    state: 'recovered', atMs: 1, leaderFirstLsn: 30, snapshotLsn: 35, snapshotDigest: 'ab'.repeat(32), previousLastLsn: 20, movedTo: `${DATA_DIR}/log.compacted-1700000000000`, lastLsn: 50,
  })
  const ha = await haOf(open)
  expect(JSON.stringify(ha)).not.toContain('/srv/egress')
  expect(ha.failure).toBe('WAL_FATAL')
  expect(ha.last_snapshot_recovery).toMatchObject({ state: 'recovered', snapshot_lsn: 35, moved_to: 'log.compacted-1700000000000' })
  // The reader's text carries the code too, as documented (CODE: message).
  const ops = await t.token({ sub: 'oscar', roles: ['ops'], accounts: [] })
  expect((await haOf(open, ops)).failure).toBe(`WAL_FATAL: log write failed: EIO writing ${DATA_DIR}/log/00000000000000000001.seg`)
})

test('open and protected: an ops, auditor or admin token sees the texts and paths as they are', async () => {
  status = statusOf(SWAP_FAILED, RECOVERY_FAILED)
  for (const role of ['ops', 'auditor', 'admin'] as const) {
    const token = await t.token({ sub: `reader-${role}`, roles: [role], accounts: [] })
    for (const app of [open, guarded]) {
      const ha = await haOf(app, token)
      expect(ha.failure).toBe(SWAP_FAILED.message)
      expect(ha.last_divergence?.error).toBe(`FSYNC_FAILED: fsync of ${DATA_DIR} failed in a data dir swap (EIO)`)
      expect(ha.last_divergence?.moved_to).toBe(`${DATA_DIR}/log.diverged-1700000000000`)
      expect(ha.last_snapshot_recovery).toMatchObject({ error: RECOVERY_FAILED.error })
    }
  }
})
