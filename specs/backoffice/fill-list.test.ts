/**
 * The fill list (src/backoffice/fill-list.ts) over an order the kernel books as it does when status reads and late
 * reports interleave (venue-order-script.ts): two synthetic fills at two prices, each real report straddling the
 * synthetic quantity (its part above booked as its own `order.fill`, the rest covered and trued up). At every step,
 * Σ (qty − superseded_qty) is the order's filled quantity; at the end each real execution's rows add up to what the
 * venue traded, at its price, and every synthetic fill is superseded whole. An order whose synthetic fill was booked
 * where a query model upgraded in place holds no true-up fills says so (null), never 0. A query bounded by `toLsn` reads
 * as the list did at that LSN, and a true-up that repriced no quantity lists no row of quantity 0. Attribution to an
 * order's synthetic fills is per order, oldest first, whichever venue range a report covers (documented, pinned here).
 */
import { describe, expect, test } from 'bun:test'
import { initialLedger, type Booked } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import { fillList, type ListedFill } from '../../src/backoffice/fill-list.ts'
import { Store } from '../../src/backoffice/store.ts'
import { parseDecimal, type Units } from '../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent } from '../../src/domain/events/index.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { AT_MS, fill } from './events.ts'
import { SyntheticScript } from './synthetic-script.ts'
import { VenueOrder } from './venue-order-script.ts'

const d = parseDecimal

/** A query model holding what a ledger folding `events` (LSN 1, 2, …) books, in one batch. */
function storeOf(events: readonly DomainEvent[]): Store {
  const ledger = initialLedger()
  const booked: Booked[] = events.map((event, index) => applyEvent(ledger, event, index + 1))
  const store = Store.open(':memory:')
  store.write({
    lastLsn: events.length,
    lastHash: 'aa',
    postings: booked.flatMap((entry) => entry.postings),
    fills: booked.flatMap((entry) => (entry.fill === null ? [] : [entry.fill])),
    trueUpFills: booked.flatMap((entry) => (entry.trueUpFill === undefined ? [] : [entry.trueUpFill])),
    positions: [],
    balances: [],
    lotsUntrackedThroughLsn: 0,
  })
  return store
}

function listed(events: readonly DomainEvent[], orderId: string): ListedFill[] {
  const store = storeOf(events)
  try {
    return fillList(store, { orderId, limit: 100 })
  } finally {
    store.close()
  }
}

/** Σ (qty − supersededQty): what the rows say the order filled. */
function filledQty(rows: readonly ListedFill[]): Units {
  return rows.reduce((sum, row) => sum + row.qty - (row.supersededQty ?? 0n), 0n)
}

/**
 * The first test's order: two synthetic fills at two prices, both real reports straddling them, ended. Its records
 * are one second apart in log order (the record at LSN n at AT_MS + n s), so a time bound and an LSN bound agree.
 */
function truedUpOrder(): { orderId: string; events: DomainEvent[] } {
  const script = new SyntheticScript()
  const order = new VenueOrder(script, 'buy', [{ qty: d('0.04'), price: d('100') }, { qty: d('0.06'), price: d('102') }], d('150'))
  order.execute()
  order.read(d('110'), d('0.02'))
  order.report(0)
  order.execute()
  order.read(d('111'), d('0.01'))
  order.report(0)
  expect(order.done).toBe(true)
  return { orderId: order.orderId, events: script.events.map((event, index) => ({ ...event, atMs: AT_MS + (index + 1) * 1000 })) }
}

/**
 * For every LSN n, the whole list bounded by `boundAt(n)` is the list of the first n records alone (so its sum holds
 * there too); some bounds see a synthetic fill superseded, the ones before its true-up do not.
 */
function expectBoundedAsPrefixes(events: readonly DomainEvent[], orderId: string, boundAt: (lsn: number) => { toLsn?: number; toMs?: number }): void {
  const whole = storeOf(events)
  try {
    let superseded = 0
    for (let lsn = 1; lsn <= events.length; lsn++) {
      const upTo = fillList(whole, { orderId, ...boundAt(lsn), limit: 100 })
      const prefix = listed(events.slice(0, lsn), orderId)
      expect(upTo).toEqual(prefix)
      expect(filledQty(upTo)).toBe(filledQty(prefix))
      if (upTo.some((row) => row.synthetic && row.supersededQty !== 0n)) superseded += 1
    }
    expect(superseded).toBeGreaterThan(0)
    expect(superseded).toBeLessThan(events.length)
  } finally {
    whole.close()
  }
}

describe('the fill list after true-ups', () => {
  test('two synthetic fills at two prices, both real reports straddling them: every step adds up; at the end the real executions are listed whole and the synthetic fills superseded', () => {
    const script = new SyntheticScript()
    const order = new VenueOrder(script, 'buy', [{ qty: d('0.04'), price: d('100') }, { qty: d('0.06'), price: d('102') }], d('150'))
    const { orderId } = order
    order.execute()
    // Status read: 0.02 of the 0.04 executed, booked at 110.
    order.read(d('110'), d('0.02'))
    let rows = listed(script.events, orderId)
    expect(rows.map((row) => [row.synthetic, row.qty, row.supersededQty])).toEqual([[true, d('0.02'), 0n]])
    // The first report straddles it: 0.02 covered (a true-up), 0.02 its own fill.
    order.report(0)
    rows = listed(script.events, orderId)
    expect(filledQty(rows)).toBe(d('0.04'))
    expect(rows.map((row) => [row.execId, row.synthetic, row.replacesSynthetic, row.qty, row.price, row.supersededQty])).toEqual([
      [`reconcile:${orderId}:${d('0.02')}`, true, false, d('0.02'), d('110'), d('0.02')],
      [`${orderId}-p0`, false, false, d('0.02'), d('100'), 0n],
      [`${orderId}-p0`, false, true, d('0.02'), d('100'), 0n],
    ])
    order.execute()
    // A second read at another price books 0.05 more (to 0.09); nothing of it is superseded yet.
    order.read(d('111'), d('0.01'))
    rows = listed(script.events, orderId)
    expect(filledQty(rows)).toBe(d('0.09'))
    expect(rows.filter((row) => row.synthetic).map((row) => [row.qty, row.price, row.supersededQty])).toEqual([
      [d('0.02'), d('110'), d('0.02')],
      [d('0.05'), d('111'), 0n],
    ])
    // The second report straddles the second synthetic fill: 0.05 covered, 0.01 its own.
    order.report(0)
    expect(order.done).toBe(true)
    rows = listed(script.events, orderId)
    expect(filledQty(rows)).toBe(d('0.1'))
    expect(rows.filter((row) => row.synthetic).every((row) => row.supersededQty === row.qty)).toBe(true)
    const executions = new Map<string, { qty: Units; prices: Set<Units> }>()
    for (const row of rows.filter((each) => !each.synthetic)) {
      const execution = executions.get(row.execId) ?? { qty: 0n, prices: new Set<Units>() }
      execution.qty += row.qty
      execution.prices.add(row.price)
      executions.set(row.execId, execution)
    }
    expect([...executions]).toEqual([
      [`${orderId}-p0`, { qty: d('0.04'), prices: new Set([d('100')]) }],
      [`${orderId}-p1`, { qty: d('0.06'), prices: new Set([d('102')]) }],
    ])
    // Log order throughout, each row once.
    const lsns = rows.map((row) => row.lsn)
    expect(lsns).toEqual([...new Set(lsns)].sort((a, b) => a - b))
  })

  test('the quantity trued up is assigned to the synthetic fills oldest first, and a query model upgraded in place over them says it is not known', () => {
    const script = new SyntheticScript()
    const handle = script.synthetic('buy', '0.03', '120', [{ qty: '0.01', price: '100' }, { qty: '0.02', price: '101' }])
    script.arrive(handle, 1)
    const rows = listed(script.events, handle.orderId)
    expect(rows.map((row) => [row.synthetic, row.qty, row.price, row.supersededQty])).toEqual([
      [true, d('0.03'), d('120'), d('0.02')],
      [false, d('0.02'), d('101'), 0n],
    ])
    expect(filledQty(rows)).toBe(d('0.03'))
    // Upgraded in place after the synthetic fill (a version 1 store): its true-ups there are not held, so not known.
    const syntheticLsn = rows[0]?.lsn ?? 0
    const store = storeOf(script.events.slice(0, syntheticLsn))
    store.transaction((db) => db.exec('DELETE FROM model_version'))
    const reopened = Store.openImage(store.image())
    store.close()
    try {
      expect(reopened.modelVersion).toEqual({ version: 1, trueUpsUntrackedThroughLsn: syntheticLsn })
      reopened.upgradeInPlace()
      expect(reopened.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: syntheticLsn })
      expect(fillList(reopened, { orderId: handle.orderId, limit: 10 }).map((row) => [row.synthetic, row.supersededQty])).toEqual([[true, null]])
    } finally {
      reopened.close()
    }
  })

  test('a query up to an LSN reads as the list did at that LSN: only true-ups at or below it supersede, so the sum holds there', () => {
    const { orderId, events } = truedUpOrder()
    expectBoundedAsPrefixes(events, orderId, (lsn) => ({ toLsn: lsn }))
  })

  test('a query up to a time reads as the list did then: a true-up after to_ms neither lists nor supersedes, so the sum holds there', () => {
    const { orderId, events } = truedUpOrder()
    expectBoundedAsPrefixes(events, orderId, (lsn) => ({ toMs: AT_MS + lsn * 1000 }))
  })

  test('a true-up that repriced no quantity (a synthetic fill logged before pending quantity was kept) lists no row of quantity 0: the synthetic fill still stands for it', () => {
    const script = new SyntheticScript()
    const orderId = script.accept('buy', '0.02', '120')
    // No order.synthetic_pending after it: its real fill books the fee only, the quantity stays at 120.
    script.events.push(fill(orderId, { execId: `reconcile:${orderId}:0.02`, qty: '0.02', price: '120', cumQty: '0.02', synthetic: true }))
    const at = { atMs: AT_MS, orderId, execId: `${orderId}-p0`, lastPrice: d('100'), fee: d('0.05'), feeAsset: 'USD', venueTimeMs: AT_MS }
    script.events.push(decodeEvent(encodeEvent({ type: 'order.fill_covered', ...at, lastQty: d('0.02'), coveredQty: d('0.02'), venueCumQty: d('0.02'), syntheticCumQty: d('0.02') })))
    script.events.push(decodeEvent(encodeEvent({ type: 'order.fill_trued_up', ...at, qty: 0n, cash: 0n, notional: 0n, syntheticCash: 0n, syntheticNotional: 0n })))
    const store = storeOf(script.events)
    try {
      const rows = fillList(store, { orderId, limit: 100 })
      expect(rows.map((row) => [row.synthetic, row.replacesSynthetic, row.qty, row.price, row.supersededQty])).toEqual([[true, false, d('0.02'), d('120'), 0n]])
      expect(filledQty(rows)).toBe(d('0.02'))
      // Stored all the same (what is stored, and its digest, unchanged); its fee is in the ledger under its execution id.
      expect(store.counts().trueUpFills).toBe(1)
      const fees = store.postings({ limit: 100 }).filter((posting) => posting.kind === 'fee' && posting.ref === `${orderId}-p0`)
      expect(fees.map((posting) => posting.amount).sort()).toEqual([-d('0.05'), d('0.05')])
    } finally {
      store.close()
    }
  })

  test('attribution is per order, oldest first: the report for the second synthetic fill\'s range, arriving first, shows the first superseded (as documented); the sum holds', () => {
    const script = new SyntheticScript()
    const order = new VenueOrder(script, 'buy', [{ qty: d('0.04'), price: d('100') }, { qty: d('0.06'), price: d('102') }], d('150'))
    order.execute()
    order.read(d('110'), 0n)
    order.execute()
    order.read(d('111'), 0n)
    // Two synthetic fills, (0, 0.04] at 110 and (0.04, 0.1] at 111; the report of (0.04, 0.1] arrives first.
    expect(order.report(1)).toBe(true)
    let rows = listed(script.events, order.orderId)
    expect(rows.map((row) => [row.synthetic, row.qty, row.price, row.supersededQty])).toEqual([
      [true, d('0.04'), d('110'), d('0.04')],
      [true, d('0.06'), d('111'), d('0.02')],
      [false, d('0.06'), d('102'), 0n],
    ])
    expect(filledQty(rows)).toBe(d('0.1'))
    order.report(0)
    rows = listed(script.events, order.orderId)
    expect(rows.filter((row) => row.synthetic).every((row) => row.supersededQty === row.qty)).toBe(true)
    expect(filledQty(rows)).toBe(d('0.1'))
  })
})
