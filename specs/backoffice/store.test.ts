import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Projector, PROJECTOR_DEFAULTS } from '../../src/backoffice/projector.ts'
import { Store } from '../../src/backoffice/store.ts'
import { StoredBookSums } from '../../src/backoffice/book-sums.ts'
import { applyEvent, initialLedger } from '../../src/backoffice/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { crashWorld, removeDir, run, startWorld, traderA, traderB, type World } from '../runtime/harness.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function project(world: World, storePath = join(world.dir, 'backoffice.sqlite')): Projector {
  const projector = Projector.open({ engine: world.gateway.engine, clock: world.clock, storePath, ...PROJECTOR_DEFAULTS })
  cleanups.push(async () => projector.close())
  return projector
}

async function trade(world: World, tag: string): Promise<void> {
  const orders = [
    [traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '61000', client_order_id: `${tag}-1` }],
    [traderA, { account: 'acct-a', symbol: 'ETH-USD', side: 'sell', type: 'limit', qty: '2', price: '2900', client_order_id: `${tag}-2` }],
    [traderB, { account: 'acct-b', symbol: 'BTC-USD', side: 'sell', type: 'limit', qty: '1', price: '59000', client_order_id: `${tag}-3` }],
  ] as const
  for (const [principal, body] of orders) {
    const result = await world.gateway.place(principal, body, null)
    expect(result.reply.kind).toBe('accepted')
  }
  await run(world, 300)
}

/** The ledger rebuilt from the log alone: what the store must add up to. */
function fromScratch(world: World) {
  const ledger = initialLedger()
  let postings = 0
  const wal = world.gateway.engine.wal
  for (const frame of wal.read(wal.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null) postings += applyEvent(ledger, event, frame.lsn).postings.length
  }
  return { ledger, postings }
}

/** Every stored posting summed per book, a few rows a page (pages end inside an entry's postings). */
function summed(store: Store): ReadonlyMap<string, ReadonlyMap<string, bigint>> {
  const sums = new StoredBookSums()
  while (!sums.advance(store, store.lastLsn, 3)) {
    // page after page
  }
  return sums.value
}

describe('the SQLite query model', () => {
  test("one order's fills are read through the fills_order index, not by scanning the table", () => {
    const store = Store.open(':memory:')
    cleanups.push(async () => store.close())
    let plan: { detail: string }[] = []
    store.transaction((db) => (plan = db.query('EXPLAIN QUERY PLAN SELECT * FROM fills WHERE order_id = ?1 ORDER BY lsn LIMIT ?2').all('o-1', 10) as { detail: string }[]))
    expect(plan.map((step) => step.detail).join(' | ')).toContain('USING INDEX fills_order')
  })

  test("a WAL-mode store's image opens in memory; an image handed in is never changed, nor read again once open", () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-store-image-'))
    cleanups.push(async () => removeDir(dir))
    const file = Store.open(join(dir, 'backoffice.sqlite'))
    const posting = { lsn: 3, seq: 0, book: 'acct:a', accountId: 'a', asset: 'USD', amount: 5n, kind: 'funding' as const, ref: 'r', atMs: 1 }
    file.write({ lastLsn: 3, lastHash: 'aa', postings: [posting, { ...posting, seq: 1, book: 'equity:funding', amount: -5n }], fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 })
    // The file is in WAL mode (bytes 18–19 = 2); its image says rollback journal (1), which SQLite opens in memory.
    const image = file.image()
    file.close()
    expect([image[18], image[19]]).toEqual([1, 1])
    const walMarked = new Uint8Array(image)
    walMarked[18] = 2
    walMarked[19] = 2
    const fromWalMarked = Store.openImage(walMarked)
    expect([walMarked[18], walMarked[19]]).toEqual([2, 2])
    // Opened without a copy of its own, the image is still not the store's memory: clearing it changes nothing.
    const fromImage = Store.openImage(image)
    image.fill(0)
    for (const store of [fromWalMarked, fromImage]) {
      expect({ lastLsn: store.lastLsn, postings: store.counts().postings }).toEqual({ lastLsn: 3, postings: 2 })
      expect(store.image().byteLength).toBeGreaterThan(0)
      store.close()
    }
  })

  test('a batch is written with its position; the same posting twice is refused', () => {
    const store = Store.open(':memory:')
    const posting = { lsn: 3, seq: 0, book: 'acct:a', accountId: 'a', asset: 'USD', amount: 5n, kind: 'funding' as const, ref: 'r', atMs: 1 }
    store.write({ lastLsn: 3, lastHash: 'aa', postings: [posting, { ...posting, seq: 1, book: 'equity:funding', amount: -5n }], fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 })
    expect(store.lastLsn).toBe(3)
    expect(store.counts().postings).toBe(2)
    expect(() => store.write({ lastLsn: 4, lastHash: 'bb', postings: [posting], fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 })).toThrow(/outside the batch/)
    expect(store.postings({ limit: 10 }).map((row) => row.amount)).toEqual([5n, -5n])
    store.close()
  })

  test('a store of query model version 1 (no model_version row) takes no rows until upgraded; its digest covers its own tables', () => {
    const written = Store.open(':memory:')
    const posting = { lsn: 3, seq: 0, book: 'acct:a', accountId: 'a', asset: 'USD', amount: 5n, kind: 'funding' as const, ref: 'r', atMs: 1 }
    const batch = { lastHash: 'aa', postings: [], fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 }
    written.write({ ...batch, lastLsn: 3, postings: [posting, { ...posting, seq: 1, book: 'equity:funding', amount: -5n }] })
    expect(written.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 0 })
    written.transaction((db) => db.exec('DROP TABLE true_up_fills; DELETE FROM model_version'))
    const store = Store.openImage(written.image())
    written.close()
    cleanups.push(async () => store.close())
    expect(store.modelVersion).toEqual({ version: 1, trueUpsUntrackedThroughLsn: 3 })
    expect(Object.keys(store.contentDigest().tables)).toEqual(['postings', 'fills', 'positions', 'balances'])
    expect(() => store.write({ ...batch, lastLsn: 4 })).toThrow('rows written to a query model of version 1 (this build writes 2)')
    store.upgradeInPlace()
    expect(store.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 3 })
    expect(Object.keys(store.contentDigest().tables)).toEqual(['postings', 'fills', 'positions', 'balances', 'true_up_fills'])
    store.write({ ...batch, lastLsn: 4 })
    expect(store.counts().postings).toBe(2)
    // The version row is written with the rows: a reopened copy still knows it.
    const reopened = Store.openImage(store.image())
    expect(reopened.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 3 })
    reopened.close()
    store.reset()
    expect(store.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 0 })
  })

  test('rows an older build wrote past what this one wrote make the store version 1 through its position; upgraded in place, it drops the true-up fills it held', () => {
    const written = Store.open(':memory:')
    const fill = { lsn: 2, execId: 'x-1', orderId: 'o-1', accountId: 'a', venue: 'v', symbol: 'S', side: 'buy' as const, qty: 1n, price: 1n, fee: 0n, feeAsset: 'USD', liquidity: null, cash: -1n, venueTimeMs: 0, atMs: 0 }
    const batch = { lastHash: 'aa', postings: [], fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 }
    written.write({ ...batch, lastLsn: 3, trueUpFills: [fill] })
    expect(written.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 0 })
    // A trimmed copy (a snapshot's) ends what this build wrote at its new position.
    const trimmed = Store.openImage(written.image())
    trimmed.setPosition(2, 'ab')
    const trimmedAhead = Store.openImage(trimmed.image())
    trimmed.close()
    trimmedAhead.transaction((db) => db.exec('UPDATE meta SET last_lsn = 3'))
    expect(Store.openImage(trimmedAhead.image()).modelVersion).toEqual({ version: 1, trueUpsUntrackedThroughLsn: 3 })
    trimmedAhead.close()
    // What a build before versions does on it: its rows and position, model_version and true_up_fills untouched.
    written.transaction((db) => db.exec("UPDATE meta SET last_lsn = 9, last_hash = 'bb'"))
    const store = Store.openImage(written.image())
    written.close()
    cleanups.push(async () => store.close())
    expect(store.modelVersion).toEqual({ version: 1, trueUpsUntrackedThroughLsn: 9 })
    expect(Object.keys(store.contentDigest().tables)).toEqual(['postings', 'fills', 'positions', 'balances'])
    store.upgradeInPlace()
    expect(store.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 9 })
    expect(store.counts().trueUpFills).toBe(0)
    const reopened = Store.openImage(store.image())
    expect(reopened.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 9 })
    reopened.close()
  })

  test('a store of this version written before written_through_lsn was kept gets the column, its row trusted through its position', () => {
    const written = Store.open(':memory:')
    written.write({ lastLsn: 4, lastHash: 'aa', postings: [], fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 })
    written.transaction((db) => db.exec('ALTER TABLE model_version DROP COLUMN written_through_lsn'))
    const store = Store.openImage(written.image())
    written.close()
    cleanups.push(async () => store.close())
    expect(store.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 0 })
    let row: unknown = null
    store.transaction((db) => (row = db.query('SELECT written_through_lsn FROM model_version').get()))
    expect(row).toEqual({ written_through_lsn: 4n })
  })

  test('the projector writes the whole log to the store at a known LSN', async () => {
    const world = await startWorld({ seed: 11 })
    cleanups.push(async () => {
      await world.gateway.stop().catch(() => undefined)
      removeDir(world.dir)
    })
    const projector = project(world)
    await trade(world, 'a')
    expect(projector.flush()).toBe(true)
    const scratch = fromScratch(world)
    expect(projector.store.lastLsn).toBe(world.gateway.engine.wal.lastLsn)
    expect(projector.store.counts().postings).toBe(scratch.postings)
    expect(projector.store.counts().fills).toBe(scratch.ledger.counters.fills)
    expect(summed(projector.store)).toEqual(scratch.ledger.books)
    expect(projector.ledger.books).toEqual(scratch.ledger.books)
    expect(scratch.ledger.counters.fills).toBeGreaterThan(0)
  })

  test('after a crash the query model catches up from the log with nothing double-counted', async () => {
    const world = await startWorld({ seed: 12 })
    const storePath = join(world.dir, 'backoffice.sqlite')
    // No timed batches: this projector writes only when told, so the crash below loses a known tail.
    const first = Projector.open({ engine: world.gateway.engine, clock: world.clock, storePath, flushIntervalMs: 1e12, batchRowsMax: 1e9 })
    await trade(world, 'a')
    expect(first.flush()).toBe(true)
    const storedBefore = first.store.lastLsn
    const postingsBefore = first.store.counts().postings
    // More trading reaches the log but not the store: the process dies before the next batch.
    await trade(world, 'b')
    expect(first.store.lastLsn).toBe(storedBefore)
    first.close({ flush: false })
    await crashWorld(world)

    const restarted = await startWorld({ seed: 12, dir: world.dir, clock: world.clock, venue: world.venue })
    cleanups.push(async () => {
      await restarted.gateway.stop().catch(() => undefined)
      removeDir(world.dir)
    })
    const second = project(restarted, storePath)
    expect(second.rebuiltStore).toBe(false)
    expect(second.startedFromLsn).toBe(storedBefore)
    await run(restarted, 50)
    expect(second.flush()).toBe(true)
    const scratch = fromScratch(restarted)
    expect(second.store.counts().postings).toBe(scratch.postings)
    expect(second.store.counts().postings).toBeGreaterThan(postingsBefore)
    expect(second.store.counts().fills).toBe(scratch.ledger.counters.fills)
    expect(summed(second.store)).toEqual(scratch.ledger.books)
    const stored = new Map(second.store.balances().map((row) => [`${row.accountId}/${row.asset}`, [row.total, row.reserved]]))
    const live = new Map(second.balanceRows().map((row) => [`${row.accountId}/${row.asset}`, [row.total, row.reserved]]))
    expect(stored).toEqual(live)
  })

  test('a store that does not match the log is emptied and rebuilt from it', async () => {
    const world = await startWorld({ seed: 13 })
    cleanups.push(async () => {
      await world.gateway.stop().catch(() => undefined)
      removeDir(world.dir)
    })
    const storePath = join(world.dir, 'foreign.sqlite')
    const foreign = Store.open(storePath)
    foreign.write({ lastLsn: 10_000, lastHash: 'ff'.repeat(32), postings: [], fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 })
    foreign.close()
    const projector = project(world, storePath)
    expect(projector.rebuiltStore).toBe(true)
    expect(projector.store.lastLsn).toBe(world.gateway.engine.wal.lastLsn)
    expect(projector.store.counts().postings).toBe(fromScratch(world).postings)
  })

  test('stored postings are summed a page at a time and carried between runs: a run reads only what was stored since, a reset store is read again', () => {
    const store = Store.open(':memory:')
    const entry = (lsn: number, amount: bigint) => [
      { lsn, seq: 0, book: 'acct:a', accountId: 'a', asset: 'USD', amount, kind: 'funding' as const, ref: `r${lsn}`, atMs: lsn },
      { lsn, seq: 1, book: 'equity:funding', accountId: 'a', asset: 'USD', amount: -amount, kind: 'funding' as const, ref: `r${lsn}`, atMs: lsn },
    ]
    for (let lsn = 1; lsn <= 5; lsn++) store.write({ lastLsn: lsn, lastHash: 'aa', postings: entry(lsn, BigInt(lsn)), fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 })
    const sums = new StoredBookSums()
    // Three rows a page: the first page ends inside LSN 2's entry; up to LSN 4 only.
    expect(sums.advance(store, 4, 3)).toBe(false)
    expect(sums.value.get('acct:a')?.get('USD')).toBe(1n + 2n)
    expect(sums.advance(store, 4, 3)).toBe(false)
    expect(sums.advance(store, 4, 3)).toBe(true)
    expect(sums.throughLsn).toBe(4)
    expect(sums.value.get('acct:a')?.get('USD')).toBe(1n + 2n + 3n + 4n)
    expect(sums.value.get('equity:funding')?.get('USD')).toBe(-(1n + 2n + 3n + 4n))
    // The next run reads from where the last stopped: LSN 5 and what was stored since.
    store.write({ lastLsn: 6, lastHash: 'bb', postings: entry(6, 6n), fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 })
    sums.advanceAll(store, 6)
    expect(sums.value.get('acct:a')?.get('USD')).toBe(21n)
    // A reset store (rebuilt from the log) is summed from its start, not added to what the old rows gave.
    store.reset()
    store.write({ lastLsn: 2, lastHash: 'cc', postings: entry(2, 7n), fills: [], trueUpFills: [], positions: [], balances: [], lotsUntrackedThroughLsn: 0 })
    sums.advanceAll(store, 2)
    expect(sums.value.get('acct:a')?.get('USD')).toBe(7n)
    store.close()
  })
})
