// `egress replay-verify DIR` judges a log that ends before its anchors file (LOG_BEHIND_ANCHOR) under the conditions a
// start judges it: a single node under durability fsync. Before, it reported the problem (exit 65) on the data dir of
// an HA node or of a log under durability none too, where `egress serve` starts (a standby drops a diverged tail its
// old leader anchored; nothing was synced). The anchors file's lines now say who wrote them (src/audit/anchors-writer.ts);
// a file whose lines do not say (an older build's) is judged as the default, a single node under fsync (exit 65), its
// problem saying so: a verifier must not pass a directory missing acknowledged records because it cannot tell.
import { afterAll, describe, expect, test } from 'bun:test'
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { withLocalSealKey } from '../../src/audit/index.ts'
import { anchorsFileEnd } from '../../src/audit/anchors-end.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import type { GatewayRole } from '../../src/runtime/gateway-options.ts'
import { openReadOnly } from '../../wal/index.ts'
import { removeDir, tempDataDir } from '../runtime/harness.ts'
import { cli } from './io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const trader = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
const WAL = { segmentBytesMax: 4096, preallocateBytes: 0 }

interface Run {
  durability: 'fsync' | 'none'
  role?: GatewayRole
}

/** A data dir one gateway run wrote (30 orders, anchors on, stopped cleanly), its log then cut below its anchors. */
async function cutDataDir(run: Run): Promise<{ dir: string; anchored: number; logEnd: number }> {
  const dir = tempDataDir()
  dirs.push(dir)
  const config = parseConfig({ dataDir: dir, mode: 'shadow', auth: { hs256Enabled: true }, wal: { durability: run.durability }, audit: { sealEveryRecords: 8 }, snapshots: { atShutdown: true } })
  const audit = await withLocalSealKey(config.audit, { dataDir: dir, mode: config.mode })
  const served = await startServeGateway(config, { clock: new StoppableClock(), buildCommit: 'spec', onError: () => {}, wal: WAL, audit, ...(run.role === undefined ? {} : { role: run.role }) })
  for (let index = 0; index < 30; index++) {
    const body = { account: 'demo-1', symbol: 'BTC-USD', side: index % 2 === 0 ? 'buy' : 'sell', type: 'limit', qty: '0.001', price: '60000' }
    expect((await served.gateway.place(trader, body, `writer-${index}`)).reply.kind).toBe('accepted')
  }
  await served.stop()
  const segments = readdirSync(join(dir, 'log')).filter((name) => name.endsWith('.seg')).sort()
  const fd = openSync(join(dir, 'log', segments.at(-1) as string), 'r+')
  ftruncateSync(fd, 64)
  closeSync(fd)
  // The snapshot and the query model beyond the cut log are problems of their own: set aside, to see the anchors alone.
  rmSync(join(dir, 'snapshots'), { recursive: true, force: true })
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `backoffice.sqlite${suffix}`), { force: true })
  const anchored = anchorsFileEnd(anchorsPath(dir))?.lsn ?? 0
  const logEnd = openReadOnly(join(dir, 'log')).lastLsn
  expect(logEnd).toBeLessThan(anchored)
  return { dir, anchored, logEnd }
}

const anchorsPath = (dir: string): string => join(dir, 'audit', 'anchors.jsonl')

describe('replay-verify judges a log behind its anchors as a start would', () => {
  test('a single node under durability fsync: a problem, exit 65', async () => {
    const { dir, anchored, logEnd } = await cutDataDir({ durability: 'fsync' })
    expect(readFileSync(anchorsPath(dir), 'utf8')).toContain('"ha":false,"durability":"fsync"')
    const replay = await cli(['replay-verify', dir])
    expect(replay.code).toBe(65)
    expect(replay.out).toContain(`PROBLEM    LOG_BEHIND_ANCHOR: the log ${join(dir, 'log')} ends at LSN ${logEnd}, but the anchors file ${anchorsPath(dir)} names LSN ${anchored}`)
  })

  test('a single node under durability none: not judged, a note, exit 0', async () => {
    const { dir, anchored, logEnd } = await cutDataDir({ durability: 'none' })
    const replay = await cli(['replay-verify', dir, '--json'])
    expect(replay.code).toBe(0)
    const report = JSON.parse(replay.out) as { ok: boolean; problems: string[]; notes: string[] }
    expect(report).toMatchObject({ ok: true, problems: [] })
    expect(report.notes).toEqual([`LOG_BEHIND_ANCHOR not judged: the log ends at LSN ${logEnd}, the anchors file ${anchorsPath(dir)} names LSN ${anchored}, written by a single node under durability none (nothing was synced), whose start under none does not refuse it (a start under fsync still does)`])
  })

  test('an HA node (a gateway started with a role): not judged, a note, exit 0', async () => {
    const { dir } = await cutDataDir({ durability: 'fsync', role: 'leader' })
    expect(readFileSync(anchorsPath(dir), 'utf8')).toContain('"ha":true,"durability":"fsync"')
    const replay = await cli(['replay-verify', dir])
    expect(replay.code).toBe(0)
    expect(replay.out).toContain('MATCH')
    expect(replay.out).toContain('NOTE       LOG_BEHIND_ANCHOR not judged')
    expect(replay.out).toContain('written by an HA node')
    expect(replay.out).not.toContain('PROBLEM')
  })

  test('an anchors file whose lines do not say who wrote them (an older build): judged as a single node under fsync, exit 65', async () => {
    const { dir, anchored, logEnd } = await cutDataDir({ durability: 'fsync' })
    const lines = readFileSync(anchorsPath(dir), 'utf8').trimEnd().split('\n').map((line) => {
      const { ha: _ha, durability: _durability, ...older } = JSON.parse(line) as Record<string, unknown>
      return JSON.stringify(older)
    })
    writeFileSync(anchorsPath(dir), `${lines.join('\n')}\n`)
    const replay = await cli(['replay-verify', dir])
    expect(replay.code).toBe(65)
    expect(replay.out).toContain('PROBLEM    LOG_BEHIND_ANCHOR: ')
    expect(replay.out).toContain(`names LSN ${anchored}`)
    expect(replay.out).toContain('that line does not say how the gateway ran')
    expect(replay.out).not.toContain('NOTE')
  })
})

/**
 * audit verify names the loss (ANCHOR_BEYOND_END) only when an anchor's own LSN is past the log's end; cutDataDir cuts
 * below the highest LSN a line vouches for (its seal record's, as a start reads it), which under durability none may
 * leave every anchor's LSN inside the log. Whole segments are removed from the end until one is not.
 */
function cutBelowAnchorLsns(dir: string): void {
  const anchorLsnMax = Math.max(...readFileSync(anchorsPath(dir), 'utf8').trimEnd().split('\n').map((line) => (JSON.parse(line) as { lsn: number }).lsn))
  const logDir = join(dir, 'log')
  while (openReadOnly(logDir).lastLsn >= anchorLsnMax) {
    const segments = readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort()
    if (segments.length <= 1) throw new Error('the log cannot be cut below its anchors')
    rmSync(join(logDir, segments.at(-1) as string))
  }
}

describe('an anchors file that holds no anchors', () => {
  test('replay-verify passes its lines over (less evidence, exit as before) and says so in a note, instead of a bare MATCH', async () => {
    const { dir } = await cutDataDir({ durability: 'none' })
    writeFileSync(anchorsPath(dir), 'not json\n{"lsn":"x"}\n')
    const replay = await cli(['replay-verify', dir, '--json'])
    expect(replay.code).toBe(0)
    const report = JSON.parse(replay.out) as { ok: boolean; notes: string[] }
    expect(report.notes).toEqual([
      `ANCHORS_INVALID not judged: 2 line(s) of ${anchorsPath(dir)} (or its rotated .1) are not anchors and were passed over; \`egress audit verify --anchors ${anchorsPath(dir)}\` refuses such a file`,
    ])
  })
})

describe("audit verify's note on a log behind its anchors follows the start's conditions too", () => {
  test('a single node under fsync: the start refuses it (LOG_BEHIND_ANCHOR)', async () => {
    const fsync = await cutDataDir({ durability: 'fsync' })
    cutBelowAnchorLsns(fsync.dir)
    const refused = await cli(['audit', 'verify', fsync.dir])
    expect(refused.out).toContain('a gateway refuses to start from this data directory (LOG_BEHIND_ANCHOR)')
  })

  test('under durability none: the start does not refuse it, and the note says so', async () => {
    const none = await cutDataDir({ durability: 'none' })
    cutBelowAnchorLsns(none.dir)
    const started = await cli(['audit', 'verify', none.dir])
    expect(started.out).not.toContain('a gateway refuses to start')
    expect(started.out).toContain('that line was written by a single node under durability none (nothing was synced), whose start under none does not refuse it (a start under fsync still does) (no LOG_BEHIND_ANCHOR)')
  })
})

/**
 * Each line is judged by who wrote it, not by the file's newest line that names a writer: here the newest such line and
 * the line naming the highest LSN differ. Before, the newest decided for every line and the log was compared with the
 * highest LSN of any: a loss of records synced under fsync passed as a note once a later run under `none` had written
 * a line, and an HA node's anchors were judged as a single node's once a single node's line followed them.
 */
describe('each anchors line is judged by its own writer', () => {
  /** The file's lines, each rewritten by `change`, then `extra` (the newest). */
  function rewriteLines(dir: string, change: (line: Record<string, unknown>) => Record<string, unknown>, extra: Record<string, unknown>): void {
    const lines = readFileSync(anchorsPath(dir), 'utf8').trimEnd().split('\n').map((line) => JSON.stringify(change(JSON.parse(line) as Record<string, unknown>)))
    writeFileSync(anchorsPath(dir), `${[...lines, JSON.stringify(extra)].join('\n')}\n`)
  }

  /** A line of the file the log still holds (its LSN and seal record's at or before the log's end). */
  function lineWithin(dir: string, logEnd: number): Record<string, unknown> {
    const lines = readFileSync(anchorsPath(dir), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { lsn: number; sealRecordLsn?: number })
    const within = lines.filter((line) => Math.max(line.lsn, line.sealRecordLsn ?? 0) <= logEnd).at(-1)
    if (within === undefined) throw new Error('no anchors line within the cut log')
    return within as unknown as Record<string, unknown>
  }

  test('synced lines beyond the end, then a run under durability none: the loss is a problem (exit 65), not a note', async () => {
    const { dir, anchored, logEnd } = await cutDataDir({ durability: 'fsync' })
    // The log cut first, then a start under `none` (which judges nothing) wrote its line naming the cut end.
    rewriteLines(dir, (line) => line, { ...lineWithin(dir, logEnd), at: 'start', durability: 'none' })
    const replay = await cli(['replay-verify', dir])
    expect(replay.code).toBe(65)
    expect(replay.out).toContain(`PROBLEM    LOG_BEHIND_ANCHOR: the log ${join(dir, 'log')} ends at LSN ${logEnd}, but the anchors file ${anchorsPath(dir)} names LSN ${anchored}`)
    expect(replay.out).not.toContain('NOTE')
    cutBelowAnchorLsns(dir)
    expect((await cli(['audit', 'verify', dir])).out).toContain('a gateway refuses to start from this data directory (LOG_BEHIND_ANCHOR)')
  })

  test("an HA node's lines beyond the end, then a single node's line within it: a note, exit 0", async () => {
    const { dir, anchored, logEnd } = await cutDataDir({ durability: 'fsync' })
    rewriteLines(dir, (line) => ({ ...line, ha: true }), lineWithin(dir, logEnd))
    const replay = await cli(['replay-verify', dir, '--json'])
    expect(replay.code).toBe(0)
    const report = JSON.parse(replay.out) as { ok: boolean; problems: string[]; notes: string[] }
    expect(report).toMatchObject({ ok: true, problems: [] })
    expect(report.notes).toEqual([`LOG_BEHIND_ANCHOR not judged: the log ends at LSN ${logEnd}, the anchors file ${anchorsPath(dir)} names LSN ${anchored}, written by an HA node (a standby drops a diverged tail its old leader anchored), whose start as an HA node does not refuse it (a start as a single node under fsync still does)`])
  })

  test("a single node's synced lines beyond the end, then an HA node's run: a note (its log follows the leader's)", async () => {
    const { dir, anchored, logEnd } = await cutDataDir({ durability: 'fsync' })
    rewriteLines(dir, (line) => line, { ...lineWithin(dir, logEnd), ha: true })
    const replay = await cli(['replay-verify', dir])
    expect(replay.code).toBe(0)
    expect(replay.out).toContain(`NOTE       LOG_BEHIND_ANCHOR not judged: the log ends at LSN ${logEnd}, the anchors file ${anchorsPath(dir)} names LSN ${anchored}, written before the directory last ran as an HA node`)
  })
})
