import { afterAll, describe, expect, test } from 'bun:test'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { stateDigest } from '../../src/kernel/index.ts'
import {
  encodeSnapshot, KERNEL_SECTION, KERNEL_STATE_SCHEMA, kernelStateBytes, openSnapshot, restoreEngine, SnapshotStore,
} from '../../src/runtime/snapshot/index.ts'
import { nodeIo, openReadOnly, Wal } from '../../wal/index.ts'
import { removeDir, startWorld, tempDataDir, traderA } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { withEvidence } from '../support/evidence.ts'
import { cli } from './io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** A stopped data directory with a log of many small segments and no snapshot. */
async function stoppedDir(seed: number): Promise<string> {
  const world = await startWorld({ seed, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false } })
  dirs.push(world.dir)
  await trade(world, { orders: 40, tag: 'c', seed })
  await world.gateway.stop()
  return world.dir
}

function copy(dir: string): string {
  const target = tempDataDir()
  dirs.push(target)
  cpSync(dir, target, { recursive: true })
  return target
}

function snapshotFiles(dir: string): string[] {
  return readdirSync(join(dir, 'snapshots')).filter((name) => name.endsWith('.snap'))
}

describe('egress snapshot, compact, replay-verify', () => {
  test('snapshot on a stopped directory writes one at the last state; a second run has nothing to do', async () => {
    const dir = await stoppedDir(101)
    const first = await cli(['snapshot', dir])
    expect(first.code).toBe(0)
    expect(first.out).toMatch(/^snapshot snapshot-\d{20}\.snap written: LSN \d+, .* rebuilt from genesis/)
    expect(snapshotFiles(dir)).toHaveLength(1)
    const second = await cli(['snapshot', dir])
    expect(second.code).toBe(0)
    expect(second.out).toContain('already current')
    const verify = await cli(['replay-verify', dir])
    expect(verify.code).toBe(0)
    expect(verify.out).toStartWith(`MATCH: ${dir}`)
    expect(verify.out).toMatch(/snapshot   snapshot-\d{20}\.snap LSN \d+: MATCH/)
  })

  test('compact archives the segments below the snapshot; restart and replay-verify then start from the snapshot', async () => {
    await withEvidence(
      { id: 'snapshot.compaction-restart-verify', kind: 'fault', spec: 'specs/cli/snapshot.test.ts', invariant: 'after compaction below the oldest valid snapshot, restart restores the same state and replay-verify (from the snapshot, chain from the first retained segment) matches' },
      async () => {
        const dir = await stoppedDir(102)
        expect((await cli(['snapshot', dir])).code).toBe(0)
        const segmentsBefore = readdirSync(join(dir, 'log')).filter((name) => name.endsWith('.seg')).length
        const dry = await cli(['compact', dir, '--dry-run'])
        expect(dry.code).toBe(0)
        expect(dry.out).toContain('would be archived to')
        const dryJson = JSON.parse((await cli(['compact', dir, '--dry-run', '--json'])).out) as { removed: string[]; firstLsnAfter: number }
        expect(readdirSync(join(dir, 'log')).filter((name) => name.endsWith('.seg'))).toHaveLength(segmentsBefore)
        const compacted = await cli(['compact', dir, '--json'])
        expect(compacted.code).toBe(0)
        const result = JSON.parse(compacted.out) as { removed: string[]; firstLsnAfter: number; basis: { lsn: number } }
        expect(result.removed.length).toBeGreaterThan(2)
        expect(result.firstLsnAfter).toBeGreaterThan(1)
        expect(result.firstLsnAfter).toBeLessThanOrEqual(result.basis.lsn)
        expect(readdirSync(join(dir, 'archive')).sort()).toEqual(result.removed.sort())
        // The dry run said where the log would start: where it starts now (it said LSN 1, "compacted below").
        expect(dryJson.removed.sort()).toEqual(result.removed.sort())
        expect(dryJson.firstLsnAfter).toBe(result.firstLsnAfter)
        expect(dry.out).toStartWith('would compact below ')
        expect(dry.out).toContain(`the log would start at LSN ${result.firstLsnAfter} (now 1); nothing was changed`)
        const verify = await cli(['replay-verify', dir])
        expect(verify.code).toBe(0)
        expect(verify.out).toContain('(compacted)')
        expect(verify.out).toContain(`chain      verified LSN ${result.firstLsnAfter}..`)
        expect((await cli(['replay-verify', dir, '--from', 'genesis'])).code).toBe(65)
        // Restart the gateway on the compacted log: it must start from the snapshot and keep trading.
        const world = await startWorld({ seed: 102, dir, wal: { segmentBytesMax: 4096 } })
        expect(world.gateway.restoreReport?.snapshot?.lsn).toBe(result.basis.lsn)
        await trade(world, { orders: 10, tag: 'after', seed: 1020 })
        const live = stateDigest(world.gateway.engine.state)
        await world.gateway.stop()
        const after = await cli(['replay-verify', dir, '--json'])
        expect(after.code).toBe(0)
        const report = JSON.parse(after.out) as { finalDigest: string; ok: boolean }
        expect(report.finalDigest).toBe(live)
        return { cases: 1, details: { segmentsRemoved: result.removed.length, firstLsnAfter: result.firstLsnAfter } }
      },
    )
  })

  test('with --config, snapshot and compact take keep, the compaction mode and the archive directory from its snapshots section', async () => {
    const dir = await stoppedDir(106)
    const configPath = join(tempDataDir(), 'egress.json')
    dirs.push(configPath.slice(0, configPath.lastIndexOf('/')))
    writeFileSync(configPath, JSON.stringify({ dataDir: dir, snapshots: { keep: 1, compaction: 'delete' } }))
    expect((await cli(['snapshot', '--config', configPath])).code).toBe(0)
    const compacted = await cli(['compact', '--config', configPath, '--json'])
    expect(compacted.code).toBe(0)
    const result = JSON.parse(compacted.out) as { removed: string[]; mode: string; archiveDir: string | null }
    expect(result).toMatchObject({ mode: 'delete', archiveDir: null })
    expect(result.removed.length).toBeGreaterThan(0)
    expect(existsSync(join(dir, 'archive'))).toBe(false)
    const archiveDir = join(tempDataDir(), 'kept')
    dirs.push(archiveDir)
    writeFileSync(configPath, JSON.stringify({ dataDir: dir, snapshots: { compaction: 'archive', archiveDir } }))
    const archived = await cli(['compact', '--config', configPath, '--json'])
    expect(archived.code).toBe(0)
    expect(JSON.parse(archived.out)).toMatchObject({ mode: 'archive', archiveDir })
    expect((await cli(['snapshot', dir, '--config', configPath])).code).toBe(2)
  })

  test('a compacted log without a valid snapshot refuses to start, and egress snapshot refuses it with the same code, rather than replay from the middle', async () => {
    const dir = await stoppedDir(103)
    expect((await cli(['snapshot', dir])).code).toBe(0)
    expect((await cli(['compact', dir, '--delete'])).code).toBe(0)
    for (const file of snapshotFiles(dir)) writeFileSync(join(dir, 'snapshots', file), 'garbage')
    // egress snapshot refuses it as a start does, with the same stable code (before: a bare message), writing nothing.
    const offline = await cli(['snapshot', dir])
    expect(offline.code).toBe(1)
    expect(offline.err).toMatch(/COMPACTED_NO_SNAPSHOT: the log starts at LSN \d+ \(compacted\) and no snapshot passed verification \(snapshot-\d{20}\.snap: TRUNCATED\)/)
    expect(snapshotFiles(dir).map((file) => readFileSync(join(dir, 'snapshots', file), 'utf8'))).toEqual(snapshotFiles(dir).map(() => 'garbage'))
    const verify = await cli(['replay-verify', dir])
    expect(verify.code).toBe(65)
    expect(verify.out).toContain('no valid snapshot covers it')
    const wal = Wal.open(join(dir, 'log'), { durability: 'none' })
    expect(() => restoreEngine(wal, new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 3 }), { load: false })).toThrow(
      /the log starts at LSN \d+ \(compacted\) and no snapshot passed verification \(snapshot-\d{20}\.snap: TRUNCATED\)/,
    )
    await wal.close()
  })

  test('replay-verify exit codes: 0 clean, 65 on a corrupted snapshot, a doctored state, a damaged log; 2 on usage', async () => {
    await withEvidence(
      { id: 'replay-verify.exit-codes', kind: 'fault', spec: 'specs/cli/snapshot.test.ts', invariant: 'replay-verify exits 0 only when the rebuilt state matches every snapshot and the chain verifies; 65 on any difference or damage' },
      async () => {
        const dir = await stoppedDir(104)
        expect((await cli(['snapshot', dir])).code).toBe(0)
        const clean = await cli(['replay-verify', dir])
        expect(clean.code).toBe(0)
        // Read-only: nothing in the directory changed.
        const listing = (root: string): string[] => ['log', 'snapshots'].flatMap((sub) => readdirSync(join(root, sub)).map((name) => `${sub}/${name}`)).sort()
        const before = listing(dir)
        expect((await cli(['replay-verify', dir, '--from', snapshotFiles(dir)[0] as string])).code).toBe(0)
        expect(listing(dir)).toEqual(before)

        const corrupted = copy(dir)
        const file = join(corrupted, 'snapshots', snapshotFiles(corrupted)[0] as string)
        const bytes = readFileSync(file)
        bytes[100] = (bytes[100] as number) ^ 1
        writeFileSync(file, bytes)
        const bad = await cli(['replay-verify', corrupted])
        expect(bad.code).toBe(65)
        expect(bad.out).toContain('INVALID — DIGEST_MISMATCH')

        // A snapshot that is intact and chained to the log but whose state was altered: the rebuild disagrees.
        const doctored = copy(dir)
        const store = new SnapshotStore(join(doctored, 'snapshots'), { io: nodeIo, keep: 3 })
        const candidate = store.candidates()[0]
        if (candidate === undefined) throw new Error('expected a snapshot')
        const loaded = openSnapshot(store, candidate, openReadOnly(join(doctored, 'log')))
        const usd = loaded.state.accounts.get('acct-a')?.balances
        usd?.set('USD', (usd.get('USD') ?? 0n) + 1n)
        writeFileSync(candidate.path, encodeSnapshot({ lsn: loaded.lsn, chainHead: loaded.header.chainHead, createdAtMs: 0, kernelSchema: KERNEL_STATE_SCHEMA }, new Map([[KERNEL_SECTION, kernelStateBytes(loaded.state)]])).bytes)
        const mismatch = await cli(['replay-verify', doctored])
        expect(mismatch.code).toBe(65)
        expect(mismatch.out).toContain('MISMATCH')
        expect(mismatch.out).toContain('accounts: 1 differ: acct-a')

        // A damaged log: one payload byte in the middle of the first segment.
        const damaged = copy(dir)
        const segment = join(damaged, 'log', readdirSync(join(damaged, 'log')).filter((name) => name.endsWith('.seg')).sort()[0] as string)
        const segmentBytes = readFileSync(segment)
        segmentBytes[segmentBytes.length >> 1] = (segmentBytes[segmentBytes.length >> 1] as number) ^ 0x10
        writeFileSync(segment, segmentBytes)
        const broken = await cli(['replay-verify', damaged])
        expect(broken.code).toBe(65)
        expect(broken.out).toContain('PROBLEM')

        expect((await cli(['replay-verify'])).code).toBe(2)
        expect((await cli(['replay-verify', dir, 'extra'])).code).toBe(2)
        expect((await cli(['compact', dir, '--delete', '--archive', '/tmp/x'])).code).toBe(2)
        // A missing DIR could not run (1), as compact and snapshot exit on it, not a problem found in a log (65).
        const missing = await cli(['replay-verify', join(dir, 'nope')])
        expect(missing.code).toBe(1)
        expect(missing.err).toContain('does not exist: not a data directory (nothing created)')
        return { cases: 7 }
      },
    )
  })

  test('on a DIR that does not exist, or has no log, compact (even --dry-run), snapshot and replay-verify exit 1 and create nothing', async () => {
    const parent = tempDataDir()
    dirs.push(parent)
    const typo = join(parent, 'typo')
    for (const argv of [['compact', typo, '--dry-run'], ['compact', typo], ['compact', parent], ['snapshot', typo], ['replay-verify', typo], ['replay-verify', parent]]) {
      const run = await cli(argv)
      expect({ argv, code: run.code }).toEqual({ argv, code: 1 })
      expect(run.err).toContain('not a data directory (nothing created)')
    }
    expect(existsSync(typo)).toBe(false)
    expect(existsSync(join(parent, 'log'))).toBe(false)
  })

  test('on a DIR that exists but holds no log, the commands that lock the data dir say so, exit 1, and leave it empty', async () => {
    // They took the data dir's lock first and so left a DATA_DIR_LOCK behind while saying "nothing created" (compact,
    // repair-tail), or failed on the log's lock file (snapshot: "ENOENT ... log/LOCK").
    const parent = tempDataDir()
    dirs.push(parent)
    for (const argv of [['compact', parent], ['snapshot', parent], ['repair-tail', parent, '--truncate-at-lsn', '5']]) {
      const run = await cli(argv)
      expect({ argv, code: run.code, err: run.err }).toEqual({ argv, code: 1, err: expect.stringContaining(`no log in ${join(parent, 'log')}: not a data directory (nothing created)`) })
      expect({ argv, left: readdirSync(parent) }).toEqual({ argv, left: [] })
    }
  })

  test('compact --archive with an empty DIR is a usage error (exit 2) naming the option, before anything is opened', async () => {
    const dir = await stoppedDir(108)
    const segments = readdirSync(join(dir, 'log')).sort()
    const run = await cli(['compact', dir, '--archive', ''])
    expect({ code: run.code, err: run.err }).toEqual({ code: 2, err: 'egress compact: --archive: expected a directory, got "" (see "egress compact --help")' })
    expect(readdirSync(join(dir, 'log')).sort()).toEqual(segments)
  })

  test('compact --archive naming a file is a usage error (exit 2), before anything is opened or moved', async () => {
    // It failed only at the first segment moved, as node's "EEXIST: file already exists, mkdir …"; with nothing to
    // move it said "archived to" the file, exit 0.
    const dir = await stoppedDir(109)
    expect((await cli(['snapshot', dir])).code).toBe(0)
    const segments = readdirSync(join(dir, 'log')).sort()
    const file = join(dir, 'not-a-directory')
    writeFileSync(file, '')
    for (const argv of [['compact', dir, '--archive', file], ['compact', dir, '--archive', file, '--dry-run']]) {
      const run = await cli(argv)
      expect({ code: run.code, err: run.err }).toEqual({ code: 2, err: `egress compact: --archive: expected a directory, got ${JSON.stringify(file)}: a file (see "egress compact --help")` })
    }
    expect(readdirSync(join(dir, 'log')).sort()).toEqual(segments)
  })

  test('replay-verify --from takes a snapshot by file name, LSN, relative or absolute path; one not there exits 1, not 65', async () => {
    // A --from naming no snapshot (a mistyped LSN) was reported as DIFFERENCES FOUND, exit 65, the status an audit job
    // takes for a problem in the data; an absolute path to a snapshot that is there was not matched at all (65 too).
    const dir = await stoppedDir(107)
    expect((await cli(['snapshot', dir])).code).toBe(0)
    const [file] = snapshotFiles(dir)
    const lsn = String(Number(/\d+/.exec(file ?? '')?.[0]))
    for (const from of [file ?? '', lsn, join(dir, 'snapshots', file ?? ''), relative(process.cwd(), join(dir, 'snapshots', file ?? ''))]) {
      const run = await cli(['replay-verify', dir, '--from', from])
      expect({ from, code: run.code, first: run.out.split('\n')[0] }).toEqual({ from, code: 0, first: `MATCH: ${dir}` })
    }
    const typo = await cli(['replay-verify', dir, '--from', `${lsn}0`])
    expect({ code: typo.code, out: typo.out, err: typo.err }).toEqual({
      code: 1, out: '', err: `egress replay-verify: --from ${lsn}0: no snapshot of that file name or LSN in ${join(dir, 'snapshots')}`,
    })
  })

  test('on a DIR whose log/ holds no segment (/var has a log/), every offline command exits 1 and writes nothing into it', async () => {
    // A log/ was all they looked for: compact (even --dry-run) opened /var/log as an empty log, writing a LOCK and a
    // first segment there and a DATA_DIR_LOCK beside it; snapshot left both locks; replay-verify answered MATCH.
    const parent = tempDataDir()
    dirs.push(parent)
    mkdirSync(join(parent, 'log'))
    writeFileSync(join(parent, 'log', 'syslog'), 'not egress\n')
    const argvs = [['compact', parent, '--dry-run'], ['compact', parent], ['snapshot', parent], ['replay-verify', parent], ['repair-tail', parent], ['repair-tail', parent, '--truncate-at-lsn', '5']]
    for (const argv of argvs) {
      const run = await cli(argv)
      expect({ argv, code: run.code, err: run.err }).toEqual({ argv, code: 1, err: expect.stringContaining(`no log segment (NNNN….seg) in ${join(parent, 'log')}: not a data directory (nothing created)`) })
      expect({ argv, left: readdirSync(parent), log: readdirSync(join(parent, 'log')) }).toEqual({ argv, left: ['log'], log: ['syslog'] })
    }
  })

  test('the shutdown snapshot of a running gateway is what the next start uses (smoke through the CLI view)', async () => {
    const world = await startWorld({ seed: 105 })
    dirs.push(world.dir)
    await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: 'x' }, null)
    await world.gateway.stop()
    expect(existsSync(join(world.dir, 'snapshots', 'MANIFEST.json'))).toBe(true)
    const verify = await cli(['replay-verify', world.dir])
    expect(verify.code).toBe(0)
  })
})

test('egress snapshot with neither --keep nor a config prunes none of the snapshots a gateway keeping more left there', async () => {
  // A gateway keeping 10 left 4 snapshots; run without its config, the default keep (3) pruned one of them.
  const world = await startWorld({ seed: 140, wal: { segmentBytesMax: 4096 }, snapshots: { keep: 10, atShutdown: false } })
  dirs.push(world.dir)
  for (let round = 0; round < 4; round++) {
    await trade(world, { orders: 4, tag: `k${round}`, seed: 140 + round })
    expect(await world.gateway.snapshot()).not.toBeNull()
  }
  await trade(world, { orders: 4, tag: 'after', seed: 150 })
  await world.gateway.stop()
  const before = snapshotFiles(world.dir)
  expect(before).toHaveLength(4)
  expect((await cli(['snapshot', world.dir])).code).toBe(0)
  const after = snapshotFiles(world.dir)
  expect(after).toHaveLength(5)
  expect(after.filter((file) => before.includes(file))).toEqual(before)
})
