// `egress snapshot` and `egress compact` on a data dir whose query model (DIR/backoffice.sqlite) a start refuses:
// no usable store (QUERY_MODEL_UNREADABLE), or one holding the log beyond its end on a log written with durability
// fsync (QUERY_MODEL_BEYOND_LOG: the log lost durable records). Before the fix both commands went ahead — a snapshot
// written over a log that lost durable records, segments compacted away below it — though `egress serve` refused the
// data dir. Now they refuse it with the same codes, exit 1, nothing written or removed; under wal.durability "none"
// (where a query model beyond the log proves nothing, and a start does not refuse it) they go on.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { storedQueryModelLsn } from '../../src/runtime/durable-witnesses.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { removeDir, tempDataDir } from '../runtime/harness.ts'
import { cli } from './io.ts'
import { dataDirContents } from './support/data-dir-contents.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const trader = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }

/** A stopped data dir written by a real gateway (durability fsync, small segments), its query model at the log's end. */
async function servedDir(): Promise<string> {
  const dir = tempDataDir()
  dirs.push(dir)
  const config = parseConfig({ dataDir: dir, mode: 'shadow', auth: { hs256Enabled: true }, wal: { durability: 'fsync' }, snapshots: { atShutdown: true } })
  const served = await startServeGateway(config, { clock: new StoppableClock(), buildCommit: 'spec', onError: () => {}, wal: { segmentBytesMax: 4096, preallocateBytes: 0 } })
  for (let index = 0; index < 40; index++) {
    const body = { account: 'demo-1', symbol: 'BTC-USD', side: index % 2 === 0 ? 'buy' : 'sell', type: 'limit', qty: '0.001', price: '60000' }
    expect((await served.gateway.place(trader, body, `offline-qm-${index}`)).reply.kind).toBe('accepted')
  }
  await served.stop()
  expect(storedQueryModelLsn(dir)).toBe(openReadOnly(join(dir, 'log')).lastLsn)
  return dir
}

async function expectRefused(dir: string, code: string, argv: string[][]): Promise<void> {
  const before = dataDirContents(dir)
  for (const args of argv) {
    const run = await cli(args)
    expect({ args, code: run.code }).toEqual({ args, code: 1 })
    expect(run.err).toContain(code)
    expect(run.err).toContain(join(dir, 'backoffice.sqlite'))
  }
  expect(dataDirContents(dir)).toEqual(before)
}

describe('offline snapshot and compact check the stored query model as a start does', () => {
  test('a query model that is no usable store: QUERY_MODEL_UNREADABLE, exit 1, nothing written or removed', async () => {
    const dir = await servedDir()
    const path = join(dir, 'backoffice.sqlite')
    for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true })
    writeFileSync(path, 'not a database '.repeat(400))
    await expectRefused(dir, 'QUERY_MODEL_UNREADABLE', [['snapshot', dir], ['compact', dir, '--delete', '--dry-run'], ['compact', dir, '--delete']])
    // replay-verify names the data dir's file too, not the private copy it opened (it named /tmp/egress-verify-…/).
    const verify = await cli(['replay-verify', dir])
    expect(verify.out).toContain(`INVALID — unreadable: QUERY_MODEL_UNREADABLE: the query model ${path} cannot be opened as this build's store (file is not a database, SQLITE_NOTADB)`)
  }, 60_000)

  /**
   * A directory under the query model's name could not be copied: the commands failed with Bun's `ENOTSUP: operation
   * not supported on socket, copyfile …` (no code, and no socket anywhere); replay-verify reported the same text.
   */
  test('a directory under the query model\'s name: QUERY_MODEL_UNREADABLE naming it, also in replay-verify\'s report', async () => {
    const dir = await servedDir()
    const path = join(dir, 'backoffice.sqlite')
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
    mkdirSync(path)
    await expectRefused(dir, 'QUERY_MODEL_UNREADABLE', [['snapshot', dir], ['compact', dir, '--delete', '--dry-run'], ['compact', dir, '--delete']])
    const verify = await cli(['replay-verify', dir])
    expect(verify.code).toBe(65)
    expect(verify.out).toContain(`INVALID — unreadable: QUERY_MODEL_UNREADABLE: the query model ${path} cannot be opened as this build's store (${path} is not a regular file)`)
  }, 60_000)

  test('a query model beyond the log\'s end: QUERY_MODEL_BEYOND_LOG, exit 1; under durability none the commands go on', async () => {
    const dir = await servedDir()
    const logDir = join(dir, 'log')
    const lastLsn = openReadOnly(logDir).lastLsn
    // The log loses its last segment (acknowledged records among them); the snapshots beyond it go too (else
    // LOG_BEHIND_SNAPSHOT refuses first).
    for (const name of readdirSync(logDir).filter((file) => file.endsWith('.seg')).sort().slice(-1)) rmSync(join(logDir, name))
    const truncatedLsn = openReadOnly(logDir).lastLsn
    expect(truncatedLsn).toBeLessThan(lastLsn)
    for (const name of readdirSync(join(dir, 'snapshots'))) rmSync(join(dir, 'snapshots', name))
    await expectRefused(dir, 'QUERY_MODEL_BEYOND_LOG', [['snapshot', dir], ['compact', dir, '--delete', '--dry-run'], ['compact', dir, '--delete']])

    const config = join(dir, '..', `${dir.split('/').pop()}-none.json`)
    writeFileSync(config, JSON.stringify({ dataDir: dir, mode: 'shadow', auth: { hs256Enabled: true }, wal: { durability: 'none' } }))
    try {
      const snapshot = await cli(['snapshot', '--config', config])
      expect({ code: snapshot.code, err: snapshot.err }).toEqual({ code: 0, err: '' })
      expect(readdirSync(join(dir, 'snapshots')).some((name) => name.endsWith('.snap'))).toBe(true)
    } finally {
      rmSync(config, { force: true })
    }
  }, 60_000)
})
