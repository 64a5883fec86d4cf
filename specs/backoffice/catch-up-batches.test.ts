/**
 * The projector's start-up catch-up (a store rebuilt from the log, or one left far behind by a crash) writes the query
 * model in batches of about batchRowsMax rows, as the live path does: it kept every row of the replay in memory and
 * wrote them in one transaction at the end, so a rebuild over a long log held all its postings and fills at once.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { Projector } from '../../src/backoffice/projector.ts'
import { Store, type StoreBatch } from '../../src/backoffice/store.ts'
import { removeDir, run, startWorld, traderA, traderB, type World } from '../runtime/harness.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function trade(world: World, tag: string): Promise<void> {
  const orders = [
    [traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '61000', client_order_id: `${tag}-1` }],
    [traderA, { account: 'acct-a', symbol: 'ETH-USD', side: 'sell', type: 'limit', qty: '2', price: '2900', client_order_id: `${tag}-2` }],
    [traderB, { account: 'acct-b', symbol: 'BTC-USD', side: 'sell', type: 'limit', qty: '1', price: '59000', client_order_id: `${tag}-3` }],
  ] as const
  for (const [principal, body] of orders) expect((await world.gateway.place(principal, body, null)).reply.kind).toBe('accepted')
  await run(world, 300)
}

/** Rows of each batch the store writes while `during` runs. */
function batchRows(during: () => void): number[] {
  const rows: number[] = []
  const write = Store.prototype.write
  Store.prototype.write = function (this: Store, batch: StoreBatch): void {
    rows.push(batch.postings.length + batch.fills.length + batch.trueUpFills.length)
    write.call(this, batch)
  }
  try {
    during()
  } finally {
    Store.prototype.write = write
  }
  return rows
}

describe('the projector catching up at start', () => {
  test('writes the log to an empty store in batches of about batchRowsMax rows, the same rows as one projector following it', async () => {
    const world = await startWorld({ seed: 31 })
    cleanups.push(async () => {
      await world.gateway.stop().catch(() => undefined)
      removeDir(world.dir)
    })
    for (const tag of ['a', 'b', 'c', 'd']) await trade(world, tag)
    const batchRowsMax = 8
    let projector: Projector | null = null
    const rows = batchRows(() => {
      projector = Projector.open({ engine: world.gateway.engine, clock: world.clock, storePath: ':memory:', flushIntervalMs: 1e12, batchRowsMax })
    })
    const opened = projector as unknown as Projector
    cleanups.push(() => opened.close())
    const total = rows.reduce((sum, count) => sum + count, 0)
    expect(total).toBeGreaterThan(4 * batchRowsMax)
    // A batch closes at the record that reaches the bound: at most one record's rows (a fill: 6 postings and its fill) past it.
    expect(Math.max(...rows)).toBeLessThanOrEqual(batchRowsMax + 7)
    expect(rows.length).toBeGreaterThan(total / (batchRowsMax + 7))
    expect(opened.store.lastLsn).toBe(world.gateway.engine.wal.lastLsn)

    // The same query model as a store written in one go.
    const whole = Projector.open({ engine: world.gateway.engine, clock: world.clock, storePath: ':memory:', flushIntervalMs: 1e12, batchRowsMax: 1e9 })
    cleanups.push(() => whole.close())
    const tables = (store: Store) => {
      const { tables: digests, lastLsn } = store.contentDigest()
      return { digests, lastLsn }
    }
    expect(tables(opened.store)).toEqual(tables(whole.store))
    expect(opened.store.balances()).toEqual(whole.store.balances())
    expect(opened.store.positions()).toEqual(whole.store.positions())
  })
})
