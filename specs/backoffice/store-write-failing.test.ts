/**
 * The projector's timer flush while query model writes keep failing (src/backoffice/write-failures.ts). Before, the
 * timer's flush threw SQLite's error out of the clock's callback: under `egress serve` (a wall clock) Bun exited 1 with a
 * bare stack trace, the flush timer never rescheduled; here (a simulated clock) it throws out of `advance`. Now it is
 * reported once per distinct error with QUERY_MODEL_WRITE_FAILED and its SQLite code, counted, and retried every
 * interval, the rows pending meanwhile; past PENDING_ROWS_FAILING_FACTOR × batchRowsMax of them the query model stops
 * (written no further, its pending rows dropped) and the engine goes on taking commands.
 */

import { Database } from 'bun:sqlite'
import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { accountBook } from '../../src/backoffice/books.ts'
import { ledgerBalance, PENDING_ROWS_FAILING_FACTOR, Projector } from '../../src/backoffice/index.ts'
import type { FundCommand } from '../../src/kernel/admin-commands.ts'
import { Engine } from '../../src/runtime/engine.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { Wal } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from '../wal/support.ts'

afterEach(removeTempDirs)

function fund(amount: bigint, reference: string): FundCommand {
  return { kind: 'fund', nowMs: 1, principalId: 'olga', accountId: 'acct-1', asset: 'USD', amount, reference }
}

async function started(batchRowsMax: number): Promise<{ wal: Wal; engine: Engine; clock: SimClock; projector: Projector; storePath: string; reports: string[] }> {
  const dir = tempDir()
  const wal = Wal.open(join(dir, 'log'), { preallocateBytes: 0 })
  const engine = Engine.replay(wal)
  const clock = new SimClock({ startMs: 0 })
  const storePath = join(dir, 'backoffice.sqlite')
  const reports: string[] = []
  const report = (error: Error, context: string): void => void reports.push(`${context}: ${error.message}`)
  const projector = Projector.open({ engine, clock, storePath, flushIntervalMs: 100, batchRowsMax, report })
  await engine.submit(fund(100n, 'first'))
  clock.advance(100)
  expect(projector.stats().storedLsn).toBe(1)
  return { wal, engine, clock, projector, storePath, reports }
}

/** Another connection holding the store's write lock: every write fails with SQLITE_BUSY until released. */
function lockStore(storePath: string): () => void {
  const other = new Database(storePath)
  other.exec('BEGIN IMMEDIATE')
  return () => {
    other.exec('ROLLBACK')
    other.close()
  }
}

describe('query model writes failing on the timer', () => {
  test('are caught, reported once, counted and retried each interval; once the lock goes, everything is written exactly once', async () => {
    const { wal, engine, clock, projector, storePath, reports } = await started(1e9)
    const release = lockStore(storePath)
    await engine.submit(fund(5n, 'second'))
    await engine.submit(fund(7n, 'third'))
    expect(() => clock.advance(300)).not.toThrow()
    expect(projector.writeFailures.counts.get('SQLITE_BUSY')).toBe(3)
    expect(projector.writeFailures.failing?.shortCode).toBe('QUERY_MODEL_WRITE_FAILED (SQLITE_BUSY)')
    expect(reports).toHaveLength(1)
    expect(reports[0]).toContain('QUERY_MODEL_WRITE_FAILED')
    expect(projector.stats()).toMatchObject({ storedLsn: 1, pendingRows: 4, storeHeld: null })
    release()

    clock.advance(100)
    expect(projector.writeFailures.failing).toBeNull()
    expect(reports).toHaveLength(2)
    expect(reports[1]).toContain('written again after 3 failed writes')
    expect(projector.stats()).toMatchObject({ storedLsn: 3, pendingRows: 0 })
    expect(projector.store.balances().map((row) => row.total)).toEqual([112n])
    expect(projector.store.postings({ book: accountBook('acct-1'), limit: 100 }).map((posting) => posting.amount)).toEqual([100n, 5n, 7n])
    projector.close()
    await wal.close()
  })

  test('past the bound of pending rows the query model stops; commands are still taken, nothing more kept or written', async () => {
    const batchRowsMax = 2
    const { wal, engine, clock, projector, storePath, reports } = await started(batchRowsMax)
    const release = lockStore(storePath)
    // Two postings a funding: one short of the bound, then over it.
    const bound = PENDING_ROWS_FAILING_FACTOR * batchRowsMax
    for (let index = 0; index < bound / 2 - 1; index++) await engine.submit(fund(1n, `f-${index}`))
    expect(() => clock.advance(100)).not.toThrow()
    expect(projector.writeFailures.stopped).toBeNull()
    expect(projector.pendingRows).toBe(bound - 2)
    await engine.submit(fund(1n, 'over'))
    expect(() => clock.advance(100)).not.toThrow()

    expect(projector.writeFailures.stopped?.sqliteCode).toBe('SQLITE_BUSY')
    expect(projector.stats().storeHeld).toStartWith('QUERY_MODEL_WRITE_FAILED (SQLITE_BUSY): the query model stopped')
    // One write at once (pending rows past batchRowsMax), then one per interval: not one per commit while they fail.
    expect(projector.writeFailures.counts.get('SQLITE_BUSY')).toBe(3)
    expect(reports.at(-1)).toContain(`${bound} rows pending after 3 failed writes (bound ${bound})`)
    expect(projector.pendingRows).toBe(0)
    // The order path is the engine's: it goes on; the ledger in memory follows; the query model keeps nothing.
    const committed = await engine.submit(fund(50n, 'after'))
    expect(committed.lsns.at(-1)).toBe(engine.wal.lastLsn)
    expect(ledgerBalance(projector.ledger, 'acct-1', 'USD')).toBe(160n)
    release()
    clock.advance(1_000)
    expect(projector.pendingRows).toBe(0)
    expect(projector.stats()).toMatchObject({ appliedLsn: engine.wal.lastLsn, storedLsn: 1 })
    expect(projector.captureSection()).toBeNull()
    expect(() => projector.close()).not.toThrow()
    await wal.close()
  })

  test('a last flush at close that fails is reported and the store still closes', async () => {
    const { wal, engine, projector, storePath, reports } = await started(1e9)
    const release = lockStore(storePath)
    await engine.submit(fund(5n, 'second'))
    expect(() => projector.close()).not.toThrow()
    expect(reports).toHaveLength(1)
    expect(() => projector.store.balances()).toThrow()
    release()
    await wal.close()
  })
})
