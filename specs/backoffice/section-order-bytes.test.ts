// Held orders of every kind in the ledger and in its snapshot section. The ledger keeps its orders in a layout of its
// own (src/backoffice/orders.ts: every order the same members in the same order, what few have added when it occurs),
// however it got them: folded, cloned or read from a section. The section writes each one as builds before wrote it,
// member for member in the same order (section-orders.ts): the fixture is the state part of a section written by the
// build before the layout changed; a section written now, and one decoded and written again, must be the same bytes.
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { applyEvent, BreakBook, decodeSection, encodeSection, initialLedger, type LedgerState } from '../../src/backoffice/index.ts'
import { cloneLedger } from '../../src/backoffice/ledger.ts'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../src/domain/events/index.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { ACCOUNT, AT_MS, accepted, canceled, d, fill, funded, unknown } from './events.ts'

const FIXTURE = join(import.meta.dir, 'fixtures', 'section-orders.state.json')

const checked = (event: DomainEvent): DomainEvent => decodeEvent(encodeEvent(event))

function report(orderId: string, fields: Partial<ExecutionReport> & Pick<ExecutionReport, 'execId' | 'kind' | 'clientOrderId' | 'venueTimeMs'>): DomainEvent {
  const full: ExecutionReport = { venue: 'sim', venueOrderId: `sim-${orderId}`, account: ACCOUNT, symbol: 'BTC-USD', side: 'buy', cumQty: 0n, ...fields }
  return checked({ type: 'inbox.report_accepted', atMs: AT_MS, orderId, report: full })
}

const acked = (orderId: string, venueTimeMs: number): DomainEvent => report(orderId, { execId: `${orderId}-new`, kind: 'new', clientOrderId: `eg-${orderId}`, venueTimeMs })
const amendRequested = (orderId: string, qty: string, reservationTotal: string): DomainEvent =>
  checked({
    type: 'order.amend_requested', atMs: AT_MS, orderId, principalId: 'alice', amendId: 1, amendClientOrderId: `eg-${orderId}.a1`, qty: d(qty), price: d('60000'), reservationTotal: d(reservationTotal),
    decision: { principalId: 'alice', roles: ['trader'], configDigest: 'cfg', buildCommit: 'spec', nowMs: AT_MS, guards: [] },
  })
const amended = (orderId: string, qty: string, reservationTotal: string): DomainEvent =>
  checked({ type: 'order.amended', atMs: AT_MS + 1, orderId, amendId: 1, amendClientOrderId: `eg-${orderId}.a1`, qty: d(qty), price: d('60000'), reservationTotal: d(reservationTotal), source: 'result' })
const expired = (orderId: string): DomainEvent => checked({ type: 'order.expired', atMs: AT_MS + 5, orderId })
const suspectMarked = (orderId: string): DomainEvent => checked({ type: 'order.suspect_marked', atMs: AT_MS + 6, orderId })

/** Held orders of the kinds a ledger holds: plain, dated by the venue or not, amended, pending an amend, filled, covered, reopened, suspect. */
function ledgerOfEveryKind(): LedgerState {
  const covered = { atMs: AT_MS + 3, orderId: 'o5', execId: 'o5-r', lastPrice: d('59000'), fee: 0n, feeAsset: 'USD', venueTimeMs: AT_MS + 3 }
  const events: DomainEvent[] = [
    funded('USD', '1000000'),
    funded('BTC', '10'),
    // Dated by the venue, partly filled, expired.
    accepted({ orderId: 'o1', side: 'buy', qty: '0.02', price: '59000' }),
    acked('o1', AT_MS + 7),
    fill('o1', { execId: 'o1-f1', qty: '0.01', price: '59000', cumQty: '0.01' }),
    expired('o1'),
    // A sell never dated by the venue, canceled.
    accepted({ orderId: 'o2', side: 'sell', qty: '0.5', price: '61000' }),
    canceled('o2'),
    // Amended (two client ids), with reports under the amend's id.
    accepted({ orderId: 'o3', side: 'buy', qty: '0.02', price: '59000' }),
    acked('o3', AT_MS + 8),
    amendRequested('o3', '0.03', '1800'),
    amended('o3', '0.03', '1800'),
    report('o3', { execId: 'o3-rep', kind: 'replaced', clientOrderId: 'eg-o3.a1', origClientOrderId: 'eg-o3', venueTimeMs: AT_MS + 20, cumQty: 0n }),
    report('o3', { execId: 'o3-f1', kind: 'fill', clientOrderId: 'eg-o3.a1', venueTimeMs: AT_MS + 30, cumQty: d('0.01'), lastQty: d('0.01'), lastPrice: d('59100'), fee: 0n, feeAsset: 'USD' }),
    fill('o3', { execId: 'o3-f1', qty: '0.01', price: '59100', cumQty: '0.01' }),
    // Ended, then Unknown: it keeps how it had ended.
    accepted({ orderId: 'o4', side: 'buy', qty: '0.01', price: '59000' }),
    acked('o4', AT_MS + 9),
    canceled('o4'),
    unknown('o4'),
    // Filled synthetically, then a real fill covered by it and trued up.
    accepted({ orderId: 'o5', side: 'buy', qty: '0.01', price: '59000', reservation: '1200' }),
    acked('o5', AT_MS + 2),
    fill('o5', { execId: 'reconcile:o5:0.01', qty: '0.01', price: '59000', cumQty: '0.01', synthetic: true }),
    checked({ type: 'order.synthetic_pending', atMs: AT_MS, orderId: 'o5', execId: 'reconcile:o5:0.01', qty: d('0.01'), price: d('59000') }),
    checked({ type: 'order.fill_covered', ...covered, lastQty: d('0.01'), coveredQty: d('0.01'), venueCumQty: d('0.01'), syntheticCumQty: d('0.01') }),
    checked({ type: 'order.fill_trued_up', ...covered, qty: d('0.01'), cash: d('590'), notional: d('590'), syntheticCash: d('590'), syntheticNotional: d('590') }),
    // Open, an amend pending.
    accepted({ orderId: 'o6', side: 'buy', qty: '0.01', price: '59000' }),
    acked('o6', AT_MS + 11),
    amendRequested('o6', '0.02', '1200'),
    // Unknown, a bootstrap suspect.
    accepted({ orderId: 'o7', side: 'sell', qty: '0.3', price: '61000' }),
    unknown('o7'),
    suspectMarked('o7'),
  ]
  const ledger = initialLedger()
  events.forEach((event, index) => applyEvent(ledger, event, index + 1))
  return ledger
}

function sectionOf(ledger: LedgerState): Uint8Array {
  return encodeSection({ lsn: ledger.lastLsn, chainHead: '0'.repeat(64), queryModel: { lastLsn: ledger.lastLsn, digest: 'd' } as never, ledger, breaks: new BreakBook(), image: new Uint8Array() })
}

/** The state part of a section (after the magic, the header length and the header). */
function stateText(section: Uint8Array): string {
  const headerLength = new DataView(section.buffer, section.byteOffset).getUint32(8, true)
  return new TextDecoder().decode(section.subarray(12 + headerLength))
}

describe('held orders in the back-office section', () => {
  test('are written as the build before wrote them, byte for byte', () => {
    const ledger = ledgerOfEveryKind()
    expect(ledger.orders.size).toBe(7)
    expect(stateText(sectionOf(ledger))).toBe(readFileSync(FIXTURE, 'utf8'))
  })

  test('a section decoded and written again is the same bytes', () => {
    const bytes = sectionOf(ledgerOfEveryKind())
    const decoded = decodeSection(bytes)
    expect(sectionOf(decoded.ledger)).toEqual(bytes)
  })
})

describe('held orders in the ledger', () => {
  const EVERY_ORDER = [
    'orderId', 'acceptedLsn', 'accountId', 'venue', 'symbol', 'baseAsset', 'quoteAsset', 'side', 'qty', 'cumQty', 'status', 'clientId',
    'reservationAsset', 'reservationTotal', 'held', 'amend', 'updatedAtMs', 'venueAcceptedAtMs',
  ]
  /** Each order's members: those every order has in their order, then the rest (their order is the history's) sorted. */
  const membersOf = (ledger: LedgerState): Record<string, string[]> =>
    Object.fromEntries([...ledger.orders].map(([orderId, order]) => {
      const members = Object.keys(order)
      return [orderId, [...members.slice(0, EVERY_ORDER.length), ...members.slice(EVERY_ORDER.length).sort()]]
    }))

  test('have the same members in the same order, dated by the venue or not, and what few have only when it occurs', () => {
    const ledger = ledgerOfEveryKind()
    expect(membersOf(ledger)).toEqual({
      o1: EVERY_ORDER,
      o2: EVERY_ORDER,
      o3: [...EVERY_ORDER, 'amendClientIds', 'renamedReports'],
      o4: [...EVERY_ORDER, 'endedAs'],
      o5: [...EVERY_ORDER, 'coveredFills'],
      o6: EVERY_ORDER,
      o7: [...EVERY_ORDER, 'bootstrapSuspect'],
    })
    expect(ledger.orders.get('o2')?.venueAcceptedAtMs).toBeUndefined()
    expect(ledger.orders.get('o3')?.amendClientIds).toEqual(['eg-o3.a1'])
  })

  test('a clone and a section read back hold them so too, with the same answers', () => {
    const ledger = ledgerOfEveryKind()
    for (const copy of [cloneLedger(ledger), decodeSection(sectionOf(ledger)).ledger]) {
      expect(membersOf(copy)).toEqual(membersOf(ledger))
      expect([...copy.orders.values()]).toEqual([...ledger.orders.values()])
    }
  })
})
