/**
 * A write of the query model that fails (SQLITE_BUSY: another connection holds the file's write lock; SQLITE_FULL, an
 * I/O error) rolls its transaction back, so the next flush must write the batch again whole. Before the fix the
 * balances it carried were already taken as written (written-balances.ts): the retry wrote the rows and the position
 * but not those balances, and the store said it held the log through the last LSN with the balances of before the
 * failure — for as long as the process lived (GET /v1/balances answered them with an `as_of_lsn` past them).
 */

import { Database } from 'bun:sqlite'
import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { accountBook } from '../../src/backoffice/books.ts'
import { Projector } from '../../src/backoffice/index.ts'
import type { FundCommand } from '../../src/kernel/admin-commands.ts'
import { Engine } from '../../src/runtime/engine.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { Wal } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from '../wal/support.ts'

afterEach(removeTempDirs)

function fund(amount: bigint, reference: string): FundCommand {
  return { kind: 'fund', nowMs: 1, principalId: 'olga', accountId: 'acct-1', asset: 'USD', amount, reference }
}

describe('a query model write that fails', () => {
  test('is written again whole by the next flush: the balances it carried too', async () => {
    const dir = tempDir()
    const wal = Wal.open(join(dir, 'log'), { preallocateBytes: 0 })
    const engine = Engine.replay(wal)
    const storePath = join(dir, 'backoffice.sqlite')
    const projector = Projector.open({ engine, clock: new SimClock({ startMs: 0 }), storePath, flushIntervalMs: 1e12, batchRowsMax: 1e9 })
    await engine.submit(fund(100n, 'first'))
    expect(projector.flush()).toBe(true)
    expect(projector.store.balances().map((row) => row.total)).toEqual([100n])

    // Another connection holds the write lock: the flush fails (SQLITE_BUSY), its transaction rolled back.
    const other = new Database(storePath)
    other.exec('BEGIN IMMEDIATE')
    await engine.submit(fund(5n, 'second'))
    expect(() => projector.flush()).toThrow()
    expect(projector.stats().storedLsn).toBe(1)
    other.exec('ROLLBACK')
    other.close()

    expect(projector.flush()).toBe(true)
    expect(projector.stats().storedLsn).toBe(2)
    expect(projector.store.balances().map((row) => row.total)).toEqual([105n])
    expect(projector.store.postings({ book: accountBook('acct-1'), limit: 100 }).map((posting) => posting.amount)).toEqual([100n, 5n])
    projector.close()
    await wal.close()
  })
})
