/**
 * `egress backup` and a snapshot whose back-office section is past its name: a snapshot is named by the kernel's LSN,
 * the section built at the back office's, after the records the kernel does not apply (a reconcile's, here). A copy
 * that ended between the two held a section past its log: replay-verify failed it (BACKUP_VERIFY_FAILED, exit 65) and
 * a start from it would have refused the section. The end is never between them now.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { nodeIo, toHex } from '../../../wal/index.ts'
import { BACKOFFICE_SECTION, backOfficeOf, backOfficeSectionSource, sectionHeaderOf, type BackOffice } from '../../../src/backoffice/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { drive, removeDir, standbyOptionsOf, startWorld, type World } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { backup, outDir, replayVerify } from './backup-support.ts'
import { haHttp, serveReplication } from './support.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Leader {
  world: World
  office: BackOffice
  url: string
}

/** A leader running the back office, serving replication and its snapshots; `intercept` as serveReplication's. */
async function officeLeader(seed: number, intercept?: (url: URL) => Response | Promise<Response> | undefined): Promise<Leader> {
  let gateway: Gateway | null = null
  const world = await startWorld({ seed, snapshots: { atShutdown: false }, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const store = (): SnapshotStore => new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 3 })
  const server = serveReplication(() => world.gateway.engine.wal, haHttp({ snapshots: store }), intercept)
  cleanups.push(async () => {
    server.stop()
    await world.gateway.stop()
    removeDir(world.dir)
  })
  await trade(world, { orders: 20, tag: 'b', seed })
  return { world, office, url: server.url }
}

/** Two reconciles (records after the last kernel event), then a snapshot: its LSN and its section's. */
async function snapshotAfterReconciles(leader: Leader): Promise<{ lsn: number; sectionLsn: number }> {
  await drive(leader.world, leader.office.reconcile())
  await drive(leader.world, leader.office.reconcile())
  const taken = await leader.world.gateway.snapshot()
  if (taken === null) throw new Error('expected a snapshot')
  const content = new SnapshotStore(join(leader.world.dir, 'snapshots'), { io: nodeIo, keep: 3 }).read({ file: taken.file, path: taken.path, lsn: taken.lsn })
  return { lsn: taken.lsn, sectionLsn: sectionHeaderOf(content.sections.get(BACKOFFICE_SECTION) as Uint8Array).lsn }
}

describe('egress backup of a snapshot whose back-office section is past its LSN', () => {
  test('--to-lsn at the snapshot\'s LSN, before its section\'s: the snapshot is not used, the log is copied from LSN 1, verified', async () => {
    const leader = await officeLeader(481)
    const taken = await snapshotAfterReconciles(leader)
    expect(taken.sectionLsn).toBeGreaterThan(taken.lsn)
    const { out } = outDir(cleanups)
    const run = await backup(['--from', leader.url, '--out', out, '--to-lsn', String(taken.lsn)])
    expect({ code: run.code, result: run.result }).toMatchObject({ code: 0, result: { ok: true, firstLsn: 1, lastLsn: taken.lsn, snapshot: null } })
    expect(run.stderr).toContain(`(LSN ${taken.lsn}, its back-office section at LSN ${taken.sectionLsn}) is beyond LSN ${taken.lsn}`)
    expect((await replayVerify(out)).code).toBe(0)
  })

  test('a snapshot taken after the backup read the log\'s end, its section past that end: the copy ends at the section, and a start from it restores the back office whole', async () => {
    const state: { leader: Leader | null; answered: boolean; endLsn: number } = { leader: null, answered: false, endLsn: 0 }
    const leader = await officeLeader(482, (request) => {
      const traded = state.leader
      if (request.pathname !== '/replication/hash' || state.answered || traded === null) return undefined
      state.answered = true
      // The log's end as the backup reads it is the last kernel event; then the reconciles' records are appended and
      // the snapshot taken, named by that LSN, its section past it.
      return (async () => {
        state.endLsn = (await snapshotAfterReconciles(traded)).lsn
        return Response.json({ lsn: 0, hash: toHex(new Uint8Array(32)), last_lsn: state.endLsn })
      })()
    })
    state.leader = leader
    const { out } = outDir(cleanups)
    const run = await backup(['--from', leader.url, '--out', out])
    if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
    const result = run.result as { firstLsn: number; lastLsn: number; snapshot: { lsn: number } | null }
    expect(result.snapshot?.lsn).toBe(state.endLsn)
    expect(result.firstLsn).toBe(state.endLsn)
    expect(result.lastLsn).toBeGreaterThan(state.endLsn)
    expect(result.lastLsn).toBe(leader.world.gateway.engine.wal.lastLsn)
    expect((await replayVerify(out)).code).toBe(0)
    // The copy's log starts at the snapshot: the back office has nothing before it but the section, and uses it.
    const errors: string[] = []
    const standby = await Gateway.start(standbyOptionsOf(leader.world, out, errors))
    cleanups.push(() => standby.stop())
    expect(backOfficeOf(standby, { reconcileIntervalMs: null }).stats()).toMatchObject({ sectionProblem: null, sectionLsn: result.lastLsn, ledgerComplete: true })
    expect(errors).toEqual([])
  })
})
