/**
 * A query model file whose header and `meta` row are whole but a page inside is damaged (a torn write, a bad sector)
 * opens, its position matches the log, and it was used as it was: every read over the damaged page failed with
 * SQLite's "database disk image is malformed" (GET /v1/ledger a 500 INTERNAL, the reconcile's ledger_vs_store throwing)
 * for as long as the file lived, while the back office went on writing on it. Now the open checks the file
 * (PRAGMA quick_check) and refuses it with QUERY_MODEL_UNREADABLE (SQLITE_CORRUPT) naming the file, as it refuses a
 * truncated one (store-unreadable): moved aside, the next start rebuilds it from the log.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { openSync, closeSync, renameSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { accountBook } from '../../src/backoffice/books.ts'
import { Projector, QueryModelStoreError } from '../../src/backoffice/index.ts'
import type { FundCommand } from '../../src/kernel/admin-commands.ts'
import { Engine } from '../../src/runtime/engine.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { Wal } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from '../wal/support.ts'

afterEach(removeTempDirs)

const FUNDINGS = 600

function fund(index: number): FundCommand {
  return { kind: 'fund', nowMs: 1, principalId: 'olga', accountId: 'acct-1', asset: 'USD', amount: 1n, reference: `funding-${index}-${'r'.repeat(100)}` }
}

function open(engine: Engine, storePath: string): Projector {
  return Projector.open({ engine, clock: new SimClock({ startMs: 0 }), storePath, flushIntervalMs: 1e12, batchRowsMax: 1e9 })
}

describe('a query model file with a damaged page', () => {
  test('is refused at open with QUERY_MODEL_UNREADABLE (SQLITE_CORRUPT), not used; moved aside, it is rebuilt', async () => {
    const dir = tempDir()
    const wal = Wal.open(join(dir, 'log'), { preallocateBytes: 0 })
    const engine = Engine.replay(wal)
    const storePath = join(dir, 'backoffice.sqlite')
    const first = open(engine, storePath)
    await Promise.all(Array.from({ length: FUNDINGS }, (_, index) => engine.submit(fund(index))))
    expect(first.flush()).toBe(true)
    first.close()

    // A page in the middle of the file overwritten; the header page and the small tables' pages stay whole.
    const pages = statSync(storePath).size / 4096
    expect(pages).toBeGreaterThan(20)
    const fd = openSync(storePath, 'r+')
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(pages / 2) * 4096)
    closeSync(fd)

    const refused = (() => {
      try {
        open(engine, storePath).close()
        return null
      } catch (error) {
        return error
      }
    })()
    expect(refused).toBeInstanceOf(QueryModelStoreError)
    expect((refused as QueryModelStoreError).code).toBe('QUERY_MODEL_UNREADABLE')
    expect((refused as QueryModelStoreError).sqliteCode).toBe('SQLITE_CORRUPT')
    expect((refused as Error).message).toContain(storePath)

    renameSync(storePath, `${storePath}.aside`)
    const again = open(engine, storePath)
    expect(again.stats().storedLsn).toBe(wal.lastLsn)
    expect(again.store.postings({ book: accountBook('acct-1'), limit: FUNDINGS + 1 })).toHaveLength(FUNDINGS)
    again.close()
    await wal.close()
  })
})
