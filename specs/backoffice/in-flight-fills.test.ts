/**
 * Which venue differences the trades in flight account for exactly (src/backoffice/in-flight-fills.ts), and that such
 * a difference stays a suspect past the bounds while one with a residue beside the fills does not.
 */

import { describe, expect, test } from 'bun:test'
import { applyEvent, initialLedger, type LedgerState } from '../../src/backoffice/index.ts'
import { explainedByFills } from '../../src/backoffice/in-flight-fills.ts'
import type { Observation } from '../../src/backoffice/internal-checks.ts'
import { VENUE_SUSPECT_BOUNDS, VenueSuspects } from '../../src/backoffice/venue-suspects.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'
import { venueClientOrderId } from '../../src/domain/orders.ts'
import type { VenueTrade } from '../../src/venues/adapter.ts'
import { ACCOUNT, accepted, AT_MS, d, funded } from './events.ts'

function ledgerWithOrder(): LedgerState {
  const ledger = initialLedger()
  ;[funded('USD', '100000'), accepted({ orderId: 'o1', side: 'buy', qty: '0.3', price: '0.5000001', reservation: '1' })].forEach((event, index) => applyEvent(ledger, event, index + 1))
  return ledger
}

/** A venue trade of order o1 (a buy at 0.5000001, fee 0.00000003 USD). */
function trade(execId: string, qty: string, venueTimeMs: number): VenueTrade {
  return { execId, clientOrderId: venueClientOrderId('o1'), venueOrderId: 'v1', account: ACCOUNT, symbol: 'BTC-USD', side: 'buy', qty: d(qty), price: d('0.5000001'), fee: d('0.00000003'), feeAsset: 'USD', liquidity: 'taker', venueTimeMs }
}

const observation = (key: string, expected: string, actual: string): Observation => ({ key, check: key.startsWith('venue_balances') ? 'venue_balances' : key.startsWith('venue_trades') ? 'venue_trades' : 'venue_open_orders', what: key, expected, actual })

describe('differences the fills in flight account for', () => {
  const trades = [trade('x1', '0.1', AT_MS), trade('x2', '0.00000001', AT_MS + 10)]
  // 0.1 × 0.5000001 = 0.05000001; 0.00000001 × 0.5000001 rounds up to 0.00000001; each pays 0.00000003 fee.
  const usdMoved = -(d('0.05000001') + d('0.00000001') + d('0.00000006'))

  test('balances, a filled quantity and a trades total that equal the ledger plus the trades (or a prefix of them) are explained', () => {
    const observations = [
      observation(`venue_balances:sim:${ACCOUNT}:USD`, '0', formatDecimal(usdMoved)),
      observation(`venue_balances:sim:${ACCOUNT}:BTC`, '0', '0.1'),
      observation('venue_open_orders:sim:o1:cum_qty', '0', '0.1'),
      observation('venue_trades:sim:order:o1', '0', '0.10000001'),
    ]
    const explained = explainedByFills(ledgerWithOrder(), { venue: 'sim', accountId: ACCOUNT, trades }, observations)
    // The BTC balance and filled quantity were read before the second trade: the first alone accounts for them.
    expect([...explained].sort()).toEqual(observations.map((seen) => seen.key).sort())
  })

  test('a residue beside the fills, or a trades total short of all of them, is not explained', () => {
    const observations = [
      observation(`venue_balances:sim:${ACCOUNT}:USD`, '0', formatDecimal(usdMoved - 1n)),
      observation('venue_trades:sim:order:o1', '0', '0.1'),
      observation('venue_open_orders:sim:o1', 'AckedOpen', 'not open'),
    ]
    expect([...explainedByFills(ledgerWithOrder(), { venue: 'sim', accountId: ACCOUNT, trades }, observations)]).toEqual([])
  })

  test('an explained difference stays a suspect past the bounds; the same difference unexplained then opens', () => {
    const suspects = new VenueSuspects()
    const seen = observation(`venue_balances:sim:${ACCOUNT}:USD`, '0', '-1')
    for (let run = 0; run < VENUE_SUSPECT_BOUNDS.sightingsMax + 2; run++) {
      expect(suspects.confirmedSinceMs(seen, run * 10_000, { inFlight: true, explained: true })).toBeNull()
      suspects.noteRun({ atMs: run * 10_000, ran: ['venue_balances'], observations: [seen] })
    }
    expect(suspects.confirmedSinceMs(seen, 100_000, { inFlight: true, explained: false })).toBe(0)
  })
})
