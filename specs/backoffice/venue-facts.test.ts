// The venue facts the back office's ledger keeps on a held order for the paper sim's resume
// (src/backoffice/venue-facts.ts): folded from the log, carried by a snapshot section, checked when one is read.
import { describe, expect, test } from 'bun:test'
import { applyEvent, BreakBook, decodeSection, encodeSection, initialLedger, type LedgerState } from '../../src/backoffice/index.ts'
import { tradeClientOrderId, venueFactsProblem } from '../../src/backoffice/venue-facts.ts'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../src/domain/events/index.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { ACCOUNT, AT_MS, accepted, canceled, d, fill, unknown } from './events.ts'

const OWN = 'eg-o1'
const AMEND = 'eg-o1.a1'

function reported(report: Partial<ExecutionReport> & Pick<ExecutionReport, 'execId' | 'kind' | 'clientOrderId' | 'venueTimeMs'>): DomainEvent {
  const full: ExecutionReport = { venue: 'sim', venueOrderId: 'sim-o1', account: ACCOUNT, symbol: 'BTC-USD', side: 'buy', cumQty: 0n, ...report }
  return decodeEvent(encodeEvent({ type: 'inbox.report_accepted', atMs: AT_MS, orderId: 'o1', report: full }))
}

function folded(events: DomainEvent[]): LedgerState {
  const state = initialLedger()
  events.forEach((event, index) => applyEvent(state, event, index + 1))
  return state
}

function expired(orderId: string): DomainEvent {
  return decodeEvent(encodeEvent({ type: 'order.expired', atMs: AT_MS + 5, orderId }))
}

function reconciledTo(orderId: string, to: 'Canceled' | 'AckedOpen'): DomainEvent {
  return decodeEvent(encodeEvent({ type: 'order.reconciled', atMs: AT_MS + 9, orderId, to, reason: 'RECONCILE_CONVERGED', venueStatus: to === 'Canceled' ? 'canceled' : 'open', notAtVenue: false, venueOrderId: 'sim-o1' }))
}

describe('venue facts in the ledger fold', () => {
  test('the new report dates the order at the venue; fill and replaced reports under an amend’s id are kept, those under its own id are not', () => {
    const state = folded([
      accepted({ orderId: 'o1', side: 'buy', qty: '0.02', price: '59000' }),
      reported({ execId: 'x1', kind: 'new', clientOrderId: OWN, venueTimeMs: AT_MS + 7 }),
      reported({ execId: 'x2', kind: 'fill', clientOrderId: OWN, venueTimeMs: AT_MS + 10, cumQty: d('0.01'), lastQty: d('0.01'), lastPrice: d('59000'), fee: 0n, feeAsset: 'USD' }),
      fill('o1', { execId: 'x2', qty: '0.01', price: '59000', cumQty: '0.01' }),
      reported({ execId: 'x3', kind: 'replaced', clientOrderId: AMEND, origClientOrderId: OWN, venueTimeMs: AT_MS + 20, cumQty: d('0.01') }),
      reported({ execId: 'x4', kind: 'fill', clientOrderId: AMEND, venueTimeMs: AT_MS + 30, cumQty: d('0.02'), lastQty: d('0.01'), lastPrice: d('59100'), fee: 0n, feeAsset: 'USD' }),
    ])
    const order = state.orders.get('o1')!
    expect(order.venueAcceptedAtMs).toBe(AT_MS + 7)
    expect(order.renamedReports).toEqual([
      { execId: 'x3', clientOrderId: AMEND, venueTimeMs: AT_MS + 20 },
      { execId: 'x4', clientOrderId: AMEND, venueTimeMs: AT_MS + 30 },
    ])
    expect(order.endedAs).toBeUndefined()
  })

  test('an order that went Unknown after it ended keeps how and when it ended, until its status changes again', () => {
    const canceledThenUnknown = folded([accepted({ orderId: 'o1', side: 'buy', qty: '0.02', price: '59000' }), canceled('o1'), unknown('o1')])
    expect(canceledThenUnknown.orders.get('o1')?.endedAs).toEqual({ status: 'Canceled', atMs: AT_MS })
    const expiredThenUnknown = folded([accepted({ orderId: 'o1', side: 'buy', qty: '0.02', price: '59000' }), expired('o1'), unknown('o1')])
    expect(expiredThenUnknown.orders.get('o1')?.endedAs).toEqual({ status: 'Expired', atMs: AT_MS + 5 })
    // Ended again (read back canceled), or read back open: the earlier end is history.
    for (const to of ['Canceled', 'AckedOpen'] as const) {
      const settled = folded([accepted({ orderId: 'o1', side: 'buy', qty: '0.02', price: '59000' }), canceled('o1'), unknown('o1'), reconciledTo('o1', to)])
      expect(settled.orders.get('o1')?.status).toBe(to)
      expect(settled.orders.get('o1')?.endedAs).toBeUndefined()
    }
    // A fill that moves it on (partly filled: live again) makes the end history too.
    const filledAfter = folded([accepted({ orderId: 'o1', side: 'buy', qty: '0.02', price: '59000' }), canceled('o1'), unknown('o1'), fill('o1', { execId: 'x9', qty: '0.01', price: '59000', cumQty: '0.01' })])
    expect(filledAfter.orders.get('o1')?.status).toBe('Partial')
    expect(filledAfter.orders.get('o1')?.endedAs).toBeUndefined()
    // Unknown without having ended: nothing to keep.
    expect(folded([accepted({ orderId: 'o1', side: 'buy', qty: '0.02', price: '59000' }), unknown('o1')]).orders.get('o1')?.endedAs).toBeUndefined()
  })
})

describe('the client id of a trade', () => {
  const order = {
    ownClientOrderId: OWN,
    renamedReports: [
      { execId: 'x3', clientOrderId: AMEND, venueTimeMs: 20 },
      { execId: 'x6', clientOrderId: 'eg-o1.a2', venueTimeMs: 40 },
    ],
  }

  test('its own report’s id; else the id in force at its venue time by the renamed reports before it; else the order’s own', () => {
    expect(tradeClientOrderId(order, { execId: 'x6', venueTimeMs: 40 })).toBe('eg-o1.a2')
    expect(tradeClientOrderId(order, { execId: 'x2', venueTimeMs: 10 })).toBe(OWN)
    expect(tradeClientOrderId(order, { execId: 'x5', venueTimeMs: 20 })).toBe(AMEND)
    expect(tradeClientOrderId(order, { execId: 'x5', venueTimeMs: 39 })).toBe(AMEND)
    expect(tradeClientOrderId(order, { execId: 'x7', venueTimeMs: 50 })).toBe('eg-o1.a2')
    expect(tradeClientOrderId({ ownClientOrderId: OWN, renamedReports: undefined }, { execId: 'x7', venueTimeMs: 50 })).toBe(OWN)
  })
})

describe('venue facts in a snapshot section', () => {
  function section(ledger: LedgerState): Uint8Array {
    return encodeSection({ lsn: ledger.lastLsn, chainHead: '0'.repeat(64), queryModel: { lastLsn: ledger.lastLsn, digest: 'd' } as never, ledger, breaks: new BreakBook(), image: new Uint8Array() })
  }

  test('are carried whole, and a section whose facts are malformed is refused', () => {
    const ledger = folded([accepted({ orderId: 'o1', side: 'buy', qty: '0.02', price: '59000' }), reported({ execId: 'x1', kind: 'new', clientOrderId: OWN, venueTimeMs: AT_MS + 7 }), canceled('o1'), unknown('o1')])
    ledger.orders.get('o1')!.renamedReports = [{ execId: 'x3', clientOrderId: AMEND, venueTimeMs: AT_MS + 20 }]
    const decoded = decodeSection(section(ledger)).ledger.orders.get('o1')!
    expect(decoded).toMatchObject({ venueAcceptedAtMs: AT_MS + 7, renamedReports: [{ execId: 'x3', clientOrderId: AMEND, venueTimeMs: AT_MS + 20 }], endedAs: { status: 'Canceled', atMs: AT_MS } })
    const bad = [
      { venueAcceptedAtMs: 'soon' },
      { renamedReports: {} },
      { renamedReports: [{ execId: 'x3', clientOrderId: 3, venueTimeMs: 1 }] },
      { endedAs: { status: 'Unknown', atMs: 1 } },
      { endedAs: { status: 'Canceled' } },
    ]
    for (const facts of bad) {
      expect(venueFactsProblem(facts)).not.toBeNull()
      const broken = folded([accepted({ orderId: 'o1', side: 'buy', qty: '0.02', price: '59000' })])
      Object.assign(broken.orders.get('o1')!, facts)
      expect(() => decodeSection(section(broken))).toThrow(/order o1: /)
    }
    expect(venueFactsProblem({})).toBeNull()
  })
})
