/**
 * A venue's answer to a place, cancel or amend has its venue text bounded as a report's is before the kernel records
 * it (src/runtime/venue-send.ts boundedOutcome): a place ack's venue order id that is no venue id (past 256
 * characters, a control character) makes the place `unknown`, so the order is read back; a reason past 1,024
 * characters is cut. Before, any string was recorded as is: an ack could put a line break or an id of 900 KB (a JSONL
 * line takes up to 1 MiB) into the order's send_acked record and its state, and an answer past a record's size was
 * dropped with its decision, the order left Sent with its call in flight until a restart (JSONL adversarial review).
 */

import { describe, expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { VENUE_ID_CHARS_MAX, VENUE_REASON_CHARS_MAX } from '../../src/domain/venue-report-schema.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { boundedOutcome } from '../../src/runtime/venue-send.ts'
import type { PlaceAck, PlaceRequest, VenueOutcome } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { crashWorld, run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** A sim venue that places the order and answers the place with `answer` (when set); it sends no reports. */
class AnswerVenue extends SimVenue {
  answer: VenueOutcome<PlaceAck> | null = null

  override async place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    const real = await super.place(request)
    return this.answer ?? real
  }
}

async function placeAnswered(answer: VenueOutcome<PlaceAck>) {
  const clock = new SimClock({ startMs: T0 })
  const venue = new AnswerVenue({ clock, seed: 3, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
  venue.answer = answer
  venue.setFaults({ dropReportProbability: 1 })
  const world = await startWorld({ seed: 3, clock, venue })
  worlds.push(world)
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'answer-bounds' }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  const orderId = placed.reply.orderId
  const events = () => world.gateway.engine.state.orders.get(orderId)
  return { world, venue, clock, orderId, order: events }
}

describe('a venue’s answer to a send is bounded before it is recorded', () => {
  for (const [name, venueOrderId] of [
    ['with a line break', 'v-1\nforged'],
    [`of ${VENUE_ID_CHARS_MAX + 1} characters`, 'v'.repeat(VENUE_ID_CHARS_MAX + 1)],
    ['of 900,000 characters', 'v'.repeat(900_000)],
    ['of 2,000,000 characters (past a record)', 'v'.repeat(2_000_000)],
  ] as const) {
    test(`a place ack with a venue order id ${name} makes the place unknown: read back, the order holds the venue's id, and the log reads back`, async () => {
      const { world, venue, clock, order } = await placeAnswered({ kind: 'ok', value: { venueOrderId } })
      // Unknown, the order is read back at once: the venue's status names it by its own id.
      await run(world, 1_000)
      expect(world.gateway.engine.state.inFlight.size).toBe(0)
      expect(order()?.status).toBe('AckedOpen')
      expect(order()?.venueOrderId).toBe('sim-o1')
      expect(world.errors).toEqual([])
      await crashWorld(world)
      const restarted = await startWorld({ seed: 3, dir: world.dir, clock, venue })
      worlds.push(restarted)
      expect(restarted.gateway.engine.state.orders.get(order()?.orderId ?? '')?.venueOrderId).toBe('sim-o1')
    })
  }

  test('a reject with a reason past the bound is recorded cut to it, and ends the order', async () => {
    const { world, order } = await placeAnswered({ kind: 'rejected', reason: `price_band: ${'r'.repeat(2_000_000)}` })
    await run(world, 100)
    expect(order()?.status).toBe('Rejected')
    expect(world.gateway.engine.state.inFlight.size).toBe(0)
    expect(world.errors).toEqual([])
  })

  test('answers within the bounds pass as they are (an empty venue order id: a FIX ack without OrderID)', () => {
    const answers: VenueOutcome<unknown>[] = [
      { kind: 'ok', value: { venueOrderId: 'v'.repeat(VENUE_ID_CHARS_MAX) } },
      { kind: 'ok', value: { venueOrderId: '' } },
      { kind: 'ok', value: { accepted: true } },
      { kind: 'rejected', reason: 'r'.repeat(VENUE_REASON_CHARS_MAX) },
      { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 5 },
    ]
    for (const answer of answers) expect(boundedOutcome(answer)).toBe(answer)
    const cut = boundedOutcome({ kind: 'unknown', reason: 'x'.repeat(VENUE_REASON_CHARS_MAX + 1) })
    expect(cut.kind === 'unknown' && cut.reason.length).toBe(VENUE_REASON_CHARS_MAX)
  })
})
