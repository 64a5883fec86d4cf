// A single node's data directory whose log ends before its own anchors file says it reached — the last segment cut
// short, the log put back from an older copy while the anchors stayed — is refused at start (LOG_BEHIND_ANCHOR),
// before anything is appended. Before the fix `egress serve` started on it and traded: the acknowledged orders of the
// lost records were gone from its memory, so a client retrying one with the same Idempotency-Key got a new order
// sent. What must still start: a log whose unsynced batch a power cut took (the open cuts it), a compacted log (its
// start moved, not its end), a data dir whose anchors file is missing or torn (less evidence).
import { afterAll, describe, expect, test } from 'bun:test'
import { cpSync, openSync, readdirSync, readFileSync, rmSync, closeSync, ftruncateSync, writeFileSync, writeSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { withLocalSealKey } from '../../src/audit/index.ts'
import { anchorsFileEnd } from '../../src/audit/anchors-end.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig, type Config } from '../../src/config/index.ts'
import { RestoreError } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly, Wal } from '../../wal/index.ts'
import { record } from '../wal/support.ts'
import { cli } from '../cli/io.ts'
import { dataDirContents } from '../cli/support/data-dir-contents.ts'
import { removeDir, tempDataDir } from './harness.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const trader = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
const WAL = { segmentBytesMax: 4096, preallocateBytes: 0 }

interface RunOverrides {
  durability?: 'fsync' | 'none'
  /** audit.anchorsFile: anchors kept outside the data directory. */
  anchorsFile?: string
}

function configOf(dir: string, overrides: RunOverrides = {}): Config {
  const audit = { sealEveryRecords: 8, ...(overrides.anchorsFile === undefined ? {} : { anchorsFile: overrides.anchorsFile }) }
  return parseConfig({ dataDir: dir, mode: 'shadow', auth: { hs256Enabled: true }, wal: { durability: overrides.durability ?? 'fsync' }, audit, snapshots: { atShutdown: true } })
}

/** One run of `egress serve`'s gateway on `dir` (its local seal key, anchors on), placing `orders` orders, stopped cleanly. */
async function serveRun(dir: string, orders: { from: number; count: number }, overrides: RunOverrides = {}): Promise<void> {
  const config = configOf(dir, overrides)
  const audit = await withLocalSealKey(config.audit, { dataDir: dir, mode: config.mode })
  const served = await startServeGateway(config, { clock: new StoppableClock(), buildCommit: 'spec', onError: () => {}, wal: WAL, audit })
  for (let index = orders.from; index < orders.from + orders.count; index++) {
    const body = { account: 'demo-1', symbol: 'BTC-USD', side: index % 2 === 0 ? 'buy' : 'sell', type: 'limit', qty: '0.001', price: '60000' }
    expect((await served.gateway.place(trader, body, `behind-${index}`)).reply.kind).toBe('accepted')
  }
  await served.stop()
}

/** The code a start of `dir` is refused with, or 'started' (then stopped again cleanly). */
async function startCode(dir: string, overrides: RunOverrides = {}): Promise<string> {
  const config = configOf(dir, overrides)
  const audit = await withLocalSealKey(config.audit, { dataDir: dir, mode: config.mode })
  try {
    const served = await startServeGateway(config, { clock: new StoppableClock(), buildCommit: 'spec', onError: () => {}, wal: WAL, audit })
    await served.stop()
    return 'started'
  } catch (error) {
    return error instanceof RestoreError ? error.code : `untyped ${String(error)}`
  }
}

async function servedDir(orders = 30): Promise<string> {
  const dir = tempDataDir()
  dirs.push(dir)
  await serveRun(dir, { from: 0, count: orders })
  return dir
}

function lastSegment(dir: string): string {
  const names = readdirSync(join(dir, 'log')).filter((name) => name.endsWith('.seg')).sort()
  return join(dir, 'log', names.at(-1) as string)
}

const anchorsPath = (dir: string): string => join(dir, 'audit', 'anchors.jsonl')

describe('a log that ends before its anchors file (LOG_BEHIND_ANCHOR)', () => {
  test('its last segment truncated below the last anchor: the start is refused, naming both ends, and nothing is written', async () => {
    const dir = await servedDir()
    const anchored = anchorsFileEnd(anchorsPath(dir))
    expect(anchored?.lsn).toBe(openReadOnly(join(dir, 'log')).lastLsn)
    // Cut to its header: a frame boundary, so the open itself changes nothing.
    const segment = lastSegment(dir)
    const fd = openSync(segment, 'r+')
    ftruncateSync(fd, 64)
    closeSync(fd)
    const logEnd = openReadOnly(join(dir, 'log')).lastLsn
    expect(logEnd).toBeLessThan(anchored?.lsn ?? 0)
    const before = dataDirContents(dir)

    const config = configOf(dir)
    const audit = await withLocalSealKey(config.audit, { dataDir: dir, mode: config.mode })
    const start = startServeGateway(config, { clock: new StoppableClock(), buildCommit: 'spec', onError: () => {}, wal: WAL, audit })
    await expect(start).rejects.toThrow(`LOG_BEHIND_ANCHOR: the log ${join(dir, 'log')} ends at LSN ${logEnd}, but the anchors file ${anchorsPath(dir)} names LSN ${anchored?.lsn}`)
    await expect(start).rejects.toThrow('egress audit verify DIR')
    // Nothing appended (no bootstrap record, no start line in the anchors file), nothing else written.
    expect(dataDirContents(dir)).toEqual(before)

    // `egress serve` itself: exit non-zero, the code and the remedy on stderr (refused before it would listen).
    const configFile = join(dir, '..', `${dir.split('/').at(-1)}-config.json`)
    dirs.push(configFile)
    writeFileSync(configFile, JSON.stringify({ dataDir: dir, mode: 'shadow', auth: { hs256Enabled: true }, host: '127.0.0.1', port: 1, wal: { durability: 'fsync' } }))
    const served = await cli(['serve', '--config', configFile])
    expect(served.code).not.toBe(0)
    expect(served.err).toContain(`LOG_BEHIND_ANCHOR: the log ${join(dir, 'log')} ends at LSN ${logEnd}`)
    // The serve made its local HS256 and cursor secrets (auth/) before the start; the log and the evidence are as they were.
    expect(Object.fromEntries(Object.entries(dataDirContents(dir)).filter(([path]) => !path.startsWith('auth/')))).toEqual(before)

    // The anchors file moved aside (the operator accepts the loss): the other witnesses still say it, then none does.
    rmSync(anchorsPath(dir))
    expect(await startCode(dir)).toBe('LOG_BEHIND_SNAPSHOT')
    rmSync(join(dir, 'snapshots'), { recursive: true })
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `backoffice.sqlite${suffix}`), { force: true })
    expect(await startCode(dir)).toBe('started')
  })

  test('the data dir rolled back to an older copy while its anchors file stayed newer: refused', async () => {
    const dir = await servedDir(12)
    const older = tempDataDir()
    dirs.push(older)
    cpSync(dir, older, { recursive: true })
    await serveRun(dir, { from: 12, count: 20 })
    // Everything put back from the older copy but the anchors (kept elsewhere, or simply not restored).
    for (const name of readdirSync(dir)) if (name !== 'audit') rmSync(join(dir, name), { recursive: true, force: true })
    for (const name of readdirSync(older)) if (name !== 'audit') cpSync(join(older, name), join(dir, name), { recursive: true })
    expect(openReadOnly(join(dir, 'log')).lastLsn).toBeLessThan(anchorsFileEnd(anchorsPath(dir))?.lsn ?? 0)
    expect(await startCode(dir)).toBe('LOG_BEHIND_ANCHOR')
  })

  test('the whole data dir restored from an older backup, its anchors kept elsewhere (audit.anchorsFile): refused, naming that file', async () => {
    const dir = tempDataDir()
    const kept = tempDataDir()
    const older = tempDataDir()
    dirs.push(dir, kept, older)
    const anchorsFile = join(kept, 'anchors.jsonl')
    await serveRun(dir, { from: 0, count: 12 }, { anchorsFile })
    cpSync(dir, older, { recursive: true })
    await serveRun(dir, { from: 12, count: 20 }, { anchorsFile })
    rmSync(dir, { recursive: true })
    cpSync(older, dir, { recursive: true })
    // The log, its snapshots and the query model agree with each other: only the anchors kept elsewhere know better.
    const logEnd = openReadOnly(join(dir, 'log')).lastLsn
    const anchored = anchorsFileEnd(anchorsFile)?.lsn ?? 0
    expect(logEnd).toBeLessThan(anchored)
    const config = configOf(dir, { anchorsFile })
    const audit = await withLocalSealKey(config.audit, { dataDir: dir, mode: config.mode })
    const start = startServeGateway(config, { clock: new StoppableClock(), buildCommit: 'spec', onError: () => {}, wal: WAL, audit })
    await expect(start).rejects.toThrow(`LOG_BEHIND_ANCHOR: the log ${join(dir, 'log')} ends at LSN ${logEnd}, but the anchors file ${anchorsFile} names LSN ${anchored}`)
    expect(openReadOnly(join(dir, 'log')).lastLsn).toBe(logEnd)
  })

  test('offline, replay-verify and audit verify report the same finding (exit 65)', async () => {
    const dir = await servedDir()
    const anchored = anchorsFileEnd(anchorsPath(dir))?.lsn ?? 0
    const fd = openSync(lastSegment(dir), 'r+')
    ftruncateSync(fd, 64)
    closeSync(fd)
    const logEnd = openReadOnly(join(dir, 'log')).lastLsn
    const replay = await cli(['replay-verify', dir])
    expect(replay.code).toBe(65)
    expect(replay.out).toContain(`LOG_BEHIND_ANCHOR: the log ${join(dir, 'log')} ends at LSN ${logEnd}, but the anchors file ${anchorsPath(dir)} names LSN ${anchored}`)
    const audit = await cli(['audit', 'verify', dir])
    expect(audit.code).toBe(65)
    expect(audit.out).toContain('ANCHOR_BEYOND_END')
    expect(audit.out).toContain(`a gateway refuses to start from this data directory (LOG_BEHIND_ANCHOR): its anchors name LSN ${anchored}, the log ends at ${logEnd}`)
  })
})

describe('a damaged tail that the data dir shows was durable (LOG_TAIL_DURABLE)', () => {
  // Before the fix the open cut such a tail as a torn write, keeping no copy, and only then did the anchors check
  // refuse the start: the records it removed (durable, perhaps acknowledged) were gone for good, and compact did the same.
  const quarantined = (dir: string): string[] => {
    try {
      return readdirSync(join(dir, 'quarantine'))
    } catch {
      return []
    }
  }

  test('a zeroed sector inside synced frames: the start and compact are refused and nothing is cut', async () => {
    const dir = await servedDir()
    const segment = lastSegment(dir)
    const sizeBytes = statSync(segment).size
    expect(sizeBytes).toBeGreaterThan(1024)
    const fd = openSync(segment, 'r+')
    writeSync(fd, new Uint8Array(512), 0, 512, 512)
    closeSync(fd)
    const before = readFileSync(segment)
    expect(await startCode(dir)).toBe('LOG_TAIL_DURABLE')
    expect(Buffer.compare(readFileSync(segment), before)).toBe(0)
    const compact = await cli(['compact', dir, '--delete'])
    expect(compact.code).not.toBe(0)
    expect(compact.err).toContain('LOG_TAIL_DURABLE')
    expect(Buffer.compare(readFileSync(segment), before)).toBe(0)
    expect(quarantined(dir)).toEqual([])
  })

  test('a flipped byte in the last frame (the clean shutdown seal, synced and anchored): refused, nothing cut', async () => {
    const dir = await servedDir()
    const segment = lastSegment(dir)
    const fd = openSync(segment, 'r+')
    writeSync(fd, new Uint8Array([0x5a]), 0, 1, statSync(segment).size - 3)
    closeSync(fd)
    const before = readFileSync(segment)
    expect(await startCode(dir)).toBe('LOG_TAIL_DURABLE')
    expect(Buffer.compare(readFileSync(segment), before)).toBe(0)
  })
})

describe('what still starts', () => {
  test('a power cut that took the unsynced batch after the last anchor: the open cuts it (LOG_TAIL_TRUNCATED) and the start goes on', async () => {
    const dir = await servedDir()
    const anchored = anchorsFileEnd(anchorsPath(dir))?.lsn ?? 0
    const segment = lastSegment(dir)
    const endBytes = statSync(segment).size
    // A batch written and never synced: three large frames past the shutdown anchor ...
    const wal = Wal.open(join(dir, 'log'), { durability: 'none', preallocateBytes: 0, segmentBytesMax: 1 << 20 })
    await wal.append([record('x'.repeat(1500)), record('y'.repeat(1500)), record('z'.repeat(1500))])
    await wal.close()
    expect(lastSegment(dir)).toBe(segment)
    // ... of which the power cut lost one sector inside the first frame (the disk wrote the others back on its own).
    const sector = Math.ceil((endBytes + 1) / 512) * 512
    const fd = openSync(segment, 'r+')
    writeSync(fd, new Uint8Array(512), 0, 512, sector)
    closeSync(fd)
    const torn = readFileSync(segment)
    expect(await startCode(dir)).toBe('started')
    const logEnd = openReadOnly(join(dir, 'log')).lastLsn
    expect(logEnd).toBeGreaterThan(anchored)
    // What the cut removed is kept beside the log, byte for byte.
    const kept = readdirSync(join(dir, 'quarantine'))
    expect(kept).toHaveLength(1)
    const cutAt = Number((kept[0] as string).split('.').at(-2))
    expect(Buffer.compare(readFileSync(join(dir, 'quarantine', kept[0] as string)), torn.subarray(cutAt))).toBe(0)
  })

  test('a compacted data dir (its log starts past its first anchors), and a fresh one', async () => {
    const dir = await servedDir(40)
    const compact = await cli(['compact', dir, '--delete'])
    expect(compact.code).toBe(0)
    expect(openReadOnly(join(dir, 'log')).firstLsn).toBeGreaterThan(1)
    expect(await startCode(dir)).toBe('started')
    const fresh = tempDataDir()
    dirs.push(fresh)
    expect(await startCode(fresh)).toBe('started')
  })

  test('an anchors file cut mid-line (torn) or emptied is less evidence, not a refusal; a log under durability none is not judged', async () => {
    const dir = await servedDir()
    const text = readFileSync(anchorsPath(dir), 'utf8')
    writeFileSync(anchorsPath(dir), text.slice(0, text.indexOf('\n') + 20))
    expect(await startCode(dir)).toBe('started')
    writeFileSync(anchorsPath(dir), '')
    expect(await startCode(dir)).toBe('started')

    const cut = await servedDir()
    const fd = openSync(lastSegment(cut), 'r+')
    ftruncateSync(fd, 64)
    closeSync(fd)
    expect(await startCode(cut)).toBe('LOG_BEHIND_ANCHOR')
    // Under durability none a power loss alone may take any tail (nothing was synced): not judged, as the stored query
    // model is not. Its snapshot beyond the log still is (LOG_BEHIND_SNAPSHOT): moved aside here.
    rmSync(join(cut, 'snapshots'), { recursive: true })
    expect(await startCode(cut, { durability: 'none' })).toBe('started')
  })
})
