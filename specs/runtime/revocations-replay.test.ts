/**
 * Token revocations (auth.token_revoked 261, auth.subject_revoked 262) are part of the kernel state: a restart replays
 * them, a snapshot keeps them once compaction has removed their records, a standby following the log has them, and
 * the standby's re-decision and replay-verify accept the records.
 */

import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { Principal } from '../../src/domain/accounts.ts'
import { revocationOf, subjectKey } from '../../src/domain/revocations.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { replayVerify } from '../../src/runtime/snapshot/index.ts'
import { removeDir, run, startStandbyOf, startWorld, T0, traderA } from './harness.ts'
import { replicator, serveReplication, waitFor } from './ha/support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})
const ada: Principal = { id: 'ada', roles: ['admin'], accounts: [], liveAllowed: false }
const DAY_MS = 86_400_000
const facts = (jti: string | null, sub: string, issuedAtMs: number | null) => ({ jti, subKey: subjectKey(sub), issuedAtMs })

test('revocations survive a restart, and a snapshot with the log compacted past their records', async () => {
  const snapshots = { atShutdown: false, keep: 1, compaction: 'delete' as const }
  const wal = { segmentBytesMax: 4096 }
  const world = await startWorld({ seed: 71, snapshots, wal })
  dirs.push(world.dir)
  expect((await world.gateway.revokeToken({ target: 'token', principal: ada, jti: 'leaked-1', untilMs: T0 + DAY_MS, note: 'chat' })).reply).toEqual({ kind: 'done' })
  expect((await world.gateway.revokeToken({ target: 'subject', principal: ada, sub: 'Bot-9', issuedBeforeMs: T0, untilMs: T0 + DAY_MS, note: '' })).reply).toEqual({ kind: 'done' })
  const revokedLsn = world.gateway.engine.wal.lastLsn
  const held = (state = world.gateway.engine.state) =>
    [revocationOf(state.revocations, facts('leaked-1', 'x', null), T0 + 1_000) !== null, revocationOf(state.revocations, facts('j', 'bot-9', T0 - 1), T0 + 1_000) !== null]
  expect(held()).toEqual([true, true])

  await world.gateway.stop()
  const restarted = await startWorld({ seed: 71, dir: world.dir, clock: world.clock, venue: world.venue, snapshots, wal })
  expect(held(restarted.gateway.engine.state)).toEqual([true, true])

  // Enough orders to roll segments, then a snapshot that lets compaction delete the segments holding the revocations.
  for (let index = 0; index < 30; index++) {
    await restarted.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '50000', client_order_id: `fill-${index}` }, null)
  }
  await run(restarted, 500)
  await restarted.gateway.snapshot()
  expect(restarted.gateway.engine.wal.firstLsn).toBeGreaterThan(revokedLsn)
  await restarted.gateway.stop()
  const fromSnapshot = await startWorld({ seed: 71, dir: world.dir, clock: world.clock, venue: world.venue, snapshots, wal })
  expect(held(fromSnapshot.gateway.engine.state)).toEqual([true, true])
  expect(fromSnapshot.gateway.engine.state.revocations.tokens.get('leaked-1')?.lsn).toBeLessThanOrEqual(revokedLsn)
  await fromSnapshot.gateway.stop()
  expect([...world.errors, ...restarted.errors, ...fromSnapshot.errors]).toEqual([])
}, 60_000)

test('a standby following the log holds the revocations; redecide and replay-verify accept the records', async () => {
  const world = await startWorld({ seed: 72, commandRecords: true })
  dirs.push(world.dir)
  const server = serveReplication(() => world.gateway.engine.wal)
  const { standby, dataDir, errors } = await startStandbyOf(world)
  dirs.push(dataDir)
  const pulling = replicator(standby.engine.wal, () => server.url)
  pulling.start()
  await world.gateway.revokeToken({ target: 'token', principal: ada, jti: 'short', untilMs: T0 + 1_000, note: '' })
  await world.gateway.revokeToken({ target: 'subject', principal: ada, sub: 'carol', issuedBeforeMs: T0, untilMs: T0 + DAY_MS, note: 'left the desk' })
  await run(world, 2_000)
  // Past 'short''s end: the next revocation prunes it, on the leader and on the standby alike.
  await world.gateway.revokeToken({ target: 'token', principal: ada, jti: 'long', untilMs: world.clock.nowMs() + DAY_MS, note: '' })
  await waitFor(() => standby.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn, 5_000, 'standby catch-up')
  await waitFor(() => standby.engine.state.lastLsn === world.gateway.engine.state.lastLsn, 5_000, 'standby applied')
  expect(standby.engine.state.revocations).toEqual(world.gateway.engine.state.revocations)
  expect([...standby.engine.state.revocations.tokens.keys()]).toEqual(['long'])
  expect(standby.engine.state.revocations.subjects.get('carol')?.note).toBe('left the desk')
  await pulling.stop()
  server.stop()
  await standby.stop()
  await world.gateway.stop()
  expect([...errors, ...world.errors]).toEqual([])

  const redecided = redecideLog(join(world.dir, 'log'))
  expect(redecided.mismatches).toBe(0)
  const report = replayVerify(world.dir, { from: 'auto' })
  expect(report.problems).toEqual([])
  expect(report.ok).toBe(true)
}, 30_000)
