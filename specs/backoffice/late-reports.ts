/**
 * Sim venues whose fill reports are late, and an order placed on them whose answer is lost: the setting in which a
 * status-only read-back books a synthetic fill and the real reports true it up afterwards (src/kernel/synthetic-cover.ts).
 * Shared by the specs of the true-up's effects (synthetic-true-up.test.ts, fills-after-true-up.test.ts).
 */

import { formatDecimal, parseDecimal } from '../../src/domain/decimal.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { SimClock } from '../../src/runtime/index.ts'
import type { ExecutionReport, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { FixReason } from '../../src/venues/fix/reasons.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { traderA, type World } from '../runtime/harness.ts'

/** A sim venue whose execution reports are held back until released. */
export class HeldReportsVenue extends SimVenue {
  holding = true
  private readonly held: { report: ExecutionReport; handler: (report: ExecutionReport) => void }[] = []

  constructor(clock: SimClock, seed: number) {
    super({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
  }

  override onReport(handler: (report: ExecutionReport) => void): () => void {
    return super.onReport((report) => {
      if (this.holding) this.held.push({ report, handler })
      else handler(report)
    })
  }

  release(): number {
    this.holding = false
    const held = this.held.splice(0)
    for (const { report, handler } of held) handler(report)
    return held.length
  }
}

/** Answering as a FIX order-entry session does: no trade query. */
export class LateReportsVenue extends HeldReportsVenue {
  readonly tradesQueryable = false

  override trades(): Promise<VenueOutcome<VenueTrade[]>> {
    return Promise.resolve({ kind: 'unknown', reason: `${FixReason.tradesUnsupported}: an order-entry FIX session carries no trade query` })
  }
}

/**
 * A sim venue with a trade query whose trades of an order (the read-back's query) are missing until the held reports
 * are released: the read-back's status is not explained by its trades, so the kernel books a synthetic fill, as it
 * does for a venue without a trade query. The account's trades (the back office's query) are listed throughout.
 */
export class LaggingTradesVenue extends HeldReportsVenue {
  override trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    if (this.holding && options.clientOrderId !== undefined) return Promise.resolve({ kind: 'ok', value: [] })
    return super.trades(options)
  }
}

/** Places a buy that is applied (and fills at once, as a taker, below its limit) but whose answer is lost: Unknown. */
export async function placeLost(world: World, venue: HeldReportsVenue, clientOrderId: string): Promise<string> {
  venue.setFaults({ timeoutAfterApplyProbability: 1 })
  const reference = venue.referencePrice('BTC-USD')
  if (reference === null) throw new Error('expected a reference price')
  const limit = formatDecimal(reference.price + parseDecimal('100'))
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: limit, client_order_id: clientOrderId }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  for (let step = 0; step < 200 && world.gateway.executor.stats.sends === 0; step++) await world.clock.advanceAsync(1)
  venue.setFaults({ timeoutAfterApplyProbability: 0 })
  return placed.reply.orderId
}

