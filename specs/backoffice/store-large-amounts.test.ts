/**
 * The query model reads back every amount it writes (parseComputedDecimal, src/domain/decimal.ts). A fill's cash is
 * quantity × price and a balance a sum, so either may have more whole digits than one parsed amount (parseDecimal takes 20):
 * a fill of 10 at 99999999999999999999 (a venue's price is booked as reported) was written, and every read of the
 * balances, the postings (each reconcile run sums them), the fills and the positions threw from then on.
 */

import { describe, expect, test } from 'bun:test'
import { StoredBookSums } from '../../src/backoffice/book-sums.ts'
import { accountBook, applyEvent, balanceRowsOf, fillList, initialLedger, Store, type FillRecord, type Posting } from '../../src/backoffice/index.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'
import { ACCOUNT, accepted, d, fill, funded } from './events.ts'

const PRICE = '99999999999999999999'

describe('amounts past 20 whole digits in the query model', () => {
  test('a fill whose cash has 21 whole digits is written and read back to the unit, and the stored books still sum', () => {
    const ledger = initialLedger()
    const events = [
      funded('USD', '1000'),
      accepted({ orderId: 'o1', side: 'buy', qty: '10', price: PRICE, reservation: '1' }),
      fill('o1', { execId: 'x1', qty: '10', price: PRICE, cumQty: '10', fee: '0.5' }),
    ]
    const postings: Posting[] = []
    const fills: FillRecord[] = []
    events.forEach((event, index) => {
      const booked = applyEvent(ledger, event, index + 1)
      postings.push(...booked.postings)
      if (booked.fill !== null) fills.push(booked.fill)
    })
    const cash = -10n * d(PRICE)
    expect(formatDecimal(cash).length).toBeGreaterThan(21)
    const store = Store.open(':memory:')
    try {
      store.write({ lastLsn: events.length, lastHash: 'spec', postings, fills, trueUpFills: [], positions: [...ledger.positions.values()], balances: balanceRowsOf(ledger), lotsUntrackedThroughLsn: 0 })
      expect(store.balances()).toEqual(balanceRowsOf(ledger))
      expect(store.postings({ limit: 100 })).toEqual(postings)
      expect(store.fills({ limit: 100 }).map((row) => row.cash)).toEqual([cash])
      expect(store.positions().map((position) => position.costBasis)).toEqual([-cash])
      expect(fillList(store, { limit: 10 }).map((row) => row.cash)).toEqual([cash])
      const sums = new StoredBookSums()
      sums.advanceAll(store, events.length)
      expect(sums.value.get(accountBook(ACCOUNT))?.get('USD')).toBe(d('1000') + cash - d('0.5'))
    } finally {
      store.close()
    }
  })
})
