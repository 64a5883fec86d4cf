/**
 * A leader start that fails part way (src/cli/serve-gateway.ts, Gateway.start's abandon): everything it opened is
 * closed again, the back office too. The back office opens in bootstrap's hook (beforeBootstrap) and closed only with
 * the gateway's stop, which a failed start never runs: its SQLite file stayed open, its flush and reconcile timers
 * ran on serve's clock and its replay worker lived on, while the HA node went on to follow (or exited 1 with a thread
 * keeping the process up).
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { QueryModelStoreError } from '../../src/backoffice/index.ts'
import { parseConfig } from '../../src/config/index.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { Lease, LeaseError } from '../../wal/index.ts'
import { SECRET } from '../http/fixture.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

/** The files under `dir` this process holds open (Linux: /proc/self/fd). */
function openFilesUnder(dir: string): string[] {
  const real = realpathSync(dir)
  const open: string[] = []
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      continue // the listing's own descriptor, closed by now
    }
    if (target.startsWith(`${real}/`)) open.push(target.slice(real.length + 1))
  }
  return open.sort()
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('a leader start that fails after the back office opened', () => {
  test('closes the back office with the rest: no file of the data dir left open, no timer left on the clock', async () => {
    const dataDir = tempDir('egress-failed-start-')
    const lease = Lease.acquire({ dir: tempDir('egress-failed-start-lease-'), holderId: 'spec http://127.0.0.1:1', ttlMs: 60_000, clockSkewMsMax: 10 })
    const config = parseConfig({ dataDir, wal: { durability: 'none' }, auth: { hs256Secret: SECRET }, accounts: [{ id: 'demo-1', balances: { USD: '1000000' } }] })
    const clock = new StoppableClock()
    cleanups.push(() => clock.cancelAll())
    // The lease lost as bootstrap begins (a renewal that came too late under load): bootstrap's first append is refused.
    const started = startServeGateway(config, {
      clock,
      buildCommit: 'spec',
      wal: { preallocateBytes: 0 },
      role: 'leader',
      lease,
      haLeader: () => lease.isHeld(),
      beforeBootstrap: () => lease.release(),
      onError: () => {},
    })
    const failure = await started.then(() => null, (error: unknown) => error)
    expect(failure).toBeInstanceOf(LeaseError)
    // Before: ['backoffice.sqlite', 'backoffice.sqlite-shm', 'backoffice.sqlite-wal'] and the back office's timers.
    expect(openFilesUnder(dataDir)).toEqual([])
    expect(clock.pendingBucketCount).toBe(0)
  })
})

describe('a standby start whose back office cannot open', () => {
  test('stops the gateway it started: the log and its lock are not left held', async () => {
    const dataDir = tempDir('egress-failed-start-')
    // Not a SQLite file: the query model is refused by name (QUERY_MODEL_UNREADABLE), as any start refuses it.
    writeFileSync(join(dataDir, 'backoffice.sqlite'), 'not a database, '.repeat(512))
    const config = parseConfig({ dataDir, wal: { durability: 'none' }, auth: { hs256Secret: SECRET }, accounts: [{ id: 'demo-1', balances: { USD: '1000000' } }] })
    const clock = new StoppableClock()
    cleanups.push(() => clock.cancelAll())
    const failure = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, role: 'standby', onError: () => {} }).then(() => null, (error: unknown) => error)
    expect(failure).toBeInstanceOf(QueryModelStoreError)
    // Before: the log's lock file and its segment stayed open (the standby gateway ran on, unseen).
    expect(openFilesUnder(dataDir)).toEqual([])
  })
})
