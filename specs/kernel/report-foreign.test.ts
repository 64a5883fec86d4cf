import { describe, expect, test } from 'bun:test'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { d, Harness, report } from './fixtures.ts'

/**
 * A report that names one of egress's client ids but is not about that order (another venue, account, symbol or
 * side) is recorded as orphaned and changes nothing. Before, the inbox found the order by client id alone and booked
 * such a fill into it.
 */
describe('a report about another venue, account, symbol or side', () => {
  const foreign: Array<[string, Partial<ExecutionReport>]> = [
    ['another venue', { venue: 'other-venue' }],
    ['another account', { account: 'acct-evil' }],
    ['another symbol', { symbol: 'ETH-USD' }],
    ['the other side', { side: 'sell' }],
  ]
  for (const [name, overrides] of foreign) {
    test(`${name}: the fill is not booked; the report is recorded with an orphan alert`, () => {
      const harness = Harness.funded()
      const orderId = harness.openOrder()
      const usdBefore = harness.balance('USD')
      const decision = harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05'), ...overrides }))
      expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'alert.raised'])
      expect(decision.events[0]).toMatchObject({ orderId: null })
      expect(decision.events[1]).toMatchObject({ reason: 'REPORT_ORPHANED', orderId: null })
      expect(harness.order(orderId).status).toBe('AckedOpen')
      expect(harness.order(orderId).cumQty).toBe(0n)
      expect(harness.balance('USD')).toBe(usdBefore)
    })
  }

  test('a cancel from another venue does not close the order', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.report(report(harness.order(orderId), { execId: 'c1', kind: 'canceled', venue: 'other-venue' }))
    expect(harness.order(orderId).status).toBe('AckedOpen')
  })

  test('a report that leaves the account empty (a FIX report without Account) is still applied', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05'), account: '' }))
    expect(harness.order(orderId).cumQty).toBe(d('0.05'))
  })
})
