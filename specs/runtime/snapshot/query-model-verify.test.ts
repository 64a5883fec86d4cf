import { afterAll, describe, expect, test } from 'bun:test'
import { cpSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { backOfficeOf, backOfficeSectionSource, BACKOFFICE_SECTION, decodeSection, encodeSection, Store } from '../../../src/backoffice/index.ts'
import { runCli } from '../../../src/cli/index.ts'
import type { Gateway } from '../../../src/runtime/gateway.ts'
import { compactOffline, loadNewestValid, replayVerify, snapshotOffline, SnapshotStore, verifyQueryModel, type LoadedSnapshot } from '../../../src/runtime/snapshot/index.ts'
import { nodeIo, openReadOnly } from '../../../wal/index.ts'
import { recordingIo } from '../../cli/io.ts'
import { withEvidence } from '../../support/evidence.ts'
import { removeDir, run, startWorld, tempDataDir, type WorldOptions } from '../harness.ts'
import { trade } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** A stopped data directory whose gateway ran the back office: a stored query model and a shutdown snapshot with its section. */
async function stoppedWithBackOffice(seed: number, options: Partial<WorldOptions> = {}): Promise<string> {
  let gateway: Gateway | null = null
  const world = await startWorld({ seed, ...options, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  dirs.push(world.dir)
  backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  await trade(world, { orders: 30, tag: 'v', seed })
  await run(world, 200)
  await world.gateway.stop()
  expect(world.errors).toEqual([])
  return world.dir
}

function copy(dir: string): string {
  const target = tempDataDir()
  dirs.push(target)
  cpSync(dir, target, { recursive: true })
  return target
}

describe('replay-verify compares the query model', () => {
  test('the stored query model and the snapshot section match a rebuild from the log; the directory is not written', async () => {
    const dir = await stoppedWithBackOffice(401)
    const sqlite = readFileSync(join(dir, 'backoffice.sqlite'))
    const report = replayVerify(dir, { from: 'auto' })
    expect(report.problems).toEqual([])
    expect(report.queryModel?.compared).toBe(true)
    const sources = report.queryModel?.checks.map((check) => [check.source.startsWith('snapshot-') ? 'snapshot' : check.source, check.status])
    expect(sources).toEqual([['stored', 'match'], ['snapshot', 'match']])
    expect(report.ok).toBe(true)
    expect(readFileSync(join(dir, 'backoffice.sqlite')).equals(sqlite)).toBe(true)
  })

  test('a doctored stored query model, or one of another history, is found, named by table, and exits 65', async () => {
    await withEvidence(
      { id: 'replay-verify.query-model', kind: 'fault', spec: 'specs/runtime/snapshot/query-model-verify.test.ts', invariant: 'replay-verify rebuilds the back-office query model from the log and reports any difference with the stored one or a snapshot section, per table, exit 65' },
      async () => {
        const dir = await stoppedWithBackOffice(402)
        const doctored = copy(dir)
        const db = new Database(join(doctored, 'backoffice.sqlite'))
        db.exec("UPDATE balances SET total = total || '1' WHERE rowid = (SELECT min(rowid) FROM balances)")
        db.close()
        const report = replayVerify(doctored, { from: 'auto' })
        expect(report.ok).toBe(false)
        const stored = report.queryModel?.checks.find((check) => check.source === 'stored')
        expect(stored?.status).toBe('mismatch')
        expect(stored?.differences.join('\n')).toContain('balances')
        const io = recordingIo({})
        expect(await runCli(['replay-verify', doctored], io)).toBe(65)
        expect(io.stdout.join('\n')).toContain('stored LSN')

        // A stored query model of another history (its recorded chain hash differs): a mismatch, not trusted.
        const foreign = copy(dir)
        const other = new Database(join(foreign, 'backoffice.sqlite'))
        other.exec(`UPDATE meta SET last_hash = '${'ab'.repeat(32)}'`)
        other.close()
        const foreignReport = replayVerify(foreign, { from: 'auto' })
        expect(foreignReport.queryModel?.checks.find((check) => check.source === 'stored')?.differences.join('\n')).toContain('chain hash')
        expect(foreignReport.ok).toBe(false)
        return { cases: 2 }
      },
    )
  })

  test('egress snapshot on a stopped directory writes the section; after compaction replay-verify rebuilds from it', async () => {
    const dir = await stoppedWithBackOffice(403, { wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false } })
    const written = snapshotOffline(dir, { keep: 3, nowMs: 1 })
    expect(written.written).not.toBeNull()
    expect(written.backOffice).toMatchObject({ lsn: openReadOnly(join(dir, 'log')).lastLsn })
    const compacted = await compactOffline(dir, { mode: 'delete', archiveDir: null, keep: 3, dryRun: false })
    expect(compacted.removed.length).toBeGreaterThan(0)
    const report = replayVerify(dir, { from: 'auto' })
    expect(report.problems).toEqual([])
    expect(report.queryModel?.base.kind).toBe('section')
    expect(report.queryModel?.checks.every((check) => check.status === 'match' || check.status === 'not-comparable')).toBe(true)
    expect(report.ok).toBe(true)
    // The section's ledger is whole: its fills equal the stored query model's.
    const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 3 })
    const section = decodeSection(loadNewestValid(store, openReadOnly(join(dir, 'log'))).loaded?.sections.get(BACKOFFICE_SECTION) as Uint8Array)
    const db = new Database(join(dir, 'backoffice.sqlite'), { readonly: true })
    const fills = (db.query('SELECT count(*) AS n FROM fills').get() as { n: number }).n
    db.close()
    expect(section.ledger.counters.fills).toBe(fills)
  })

  test('a section whose query model image is of a version this build does not know, or unreadable, is invalid with its reason; so is such a stored query model', async () => {
    const dir = await stoppedWithBackOffice(404)
    const log = openReadOnly(join(dir, 'log'))
    const loaded = loadNewestValid(new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 3 }), log).loaded as LoadedSnapshot
    const section = decodeSection(loaded.sections.get(BACKOFFICE_SECTION) as Uint8Array)
    /** The snapshot with its section's image replaced by `image`, the header (its digest included) as it was. */
    const withImage = (file: string, image: Uint8Array): LoadedSnapshot => {
      const { lsn, chainHead, queryModel } = section.header
      const bytes = encodeSection({ lsn, chainHead, queryModel, ledger: section.ledger, breaks: section.breaks, image })
      return { ...loaded, file, sections: new Map([...loaded.sections, [BACKOFFICE_SECTION, bytes]]) }
    }
    const later = Store.openImage(section.image)
    later.transaction((db) => db.exec('UPDATE model_version SET version = 99'))
    const laterImage = later.image()
    later.close()
    const unreadable = new Uint8Array(section.image.byteLength).fill(0x5a)
    const report = verifyQueryModel(dir, log, [loaded, withImage('later-build', laterImage), withImage('unreadable', unreadable)], null)
    const checks = new Map(report.checks.map((check) => [check.source, check]))
    expect(checks.get(loaded.file)?.status).toBe('match')
    expect(checks.get('later-build')).toMatchObject({ status: 'invalid', lsn: section.header.lsn, expectedDigest: null })
    expect(checks.get('later-build')?.problem).toStartWith("QUERY_MODEL_VERSION: the section's query model is version 99")
    expect(checks.get('unreadable')).toMatchObject({ status: 'invalid', lsn: section.header.lsn, expectedDigest: null })
    expect(checks.get('unreadable')?.problem).not.toBeNull()

    // The stored query model of a later build: invalid with the same reason, not "unreadable".
    const stored = copy(dir)
    const db = new Database(join(stored, 'backoffice.sqlite'))
    db.exec('UPDATE model_version SET version = 99')
    db.close()
    const storedCheck = verifyQueryModel(stored, log, [], null).checks.find((check) => check.source === 'stored')
    expect(storedCheck).toMatchObject({ status: 'invalid', problem: 'QUERY_MODEL_VERSION: the stored query model is version 99, this build knows 1 to 2' })
  })
})
