// A report the JSONL client refuses (it does not fit: messages.ts) is dropped, and the venue never sends it again: what
// it said — a fill, say — is lost. When it names an order of egress's (a client order id that parses to an order id),
// the client asks the gateway to read that order back (VenueAdapter.onReadBackWanted), as the FIX adapter does for a
// report it cannot map (venue-inbound.ts #readBackNamed). Before, the JSONL client had no such hook: the fill waited
// for the open-order sweep, or for ever without one.
import { afterEach, expect, test } from 'bun:test'
import { amendClientOrderId, cancelClientOrderId, venueClientOrderId } from '../../../src/domain/orders.ts'
import { encodeLine } from '../../../src/venues/jsonl/index.ts'
import { JsonlLogCode } from '../../../src/venues/jsonl/reasons.ts'
import { connect, report, startFakeVenue, stopFakeVenues, until, withCode } from './fake-venue.ts'

afterEach(stopFakeVenues)

test('a refused report naming an order of ours asks it read back; a valid report, or one naming no order of ours, asks nothing', async () => {
  const venue = startFakeVenue()
  const { client, logged, reports } = await connect(venue)
  expect(typeof client.onReadBackWanted).toBe('function')
  const wanted: string[] = []
  client.onReadBackWanted((clientOrderId) => void wanted.push(clientOrderId))
  const fill = { ...report('x-1'), kind: 'fill', clientOrderId: venueClientOrderId('o-1'), cumQty: 1n, lastQty: 1n, lastPrice: 100n, fee: 0n, feeAsset: 'USD', liquidity: 'maker' }
  venue.send(
    // A fill whose price does not fit: dropped, its order read back.
    encodeLine({ report: { ...fill, lastPrice: 'cheap' } }) +
      // A cancel's report with a member the client does not know: both ids it names are read back.
      encodeLine({ report: { ...report('x-2'), kind: 'canceled', clientOrderId: cancelClientOrderId('o-2', 1), origClientOrderId: venueClientOrderId('o-2'), extra: 1 } }) +
      // An amend's id with no venue at all.
      encodeLine({ report: { ...report('x-3'), venue: undefined, clientOrderId: amendClientOrderId('o-3', 2) } }) +
      // Names no order of ours (not an egress id, not a string): dropped, nothing read back.
      encodeLine({ report: { ...report('x-4'), cumQty: '5' } }) +
      encodeLine({ report: { ...report('x-5'), clientOrderId: 7 } }) +
      encodeLine({ report: { ...report('x-6'), clientOrderId: 'eg-', side: 'up' } }) +
      // Valid: delivered, not read back.
      encodeLine({ report: { ...report('x-7'), clientOrderId: venueClientOrderId('o-7') } }),
  )
  await until(() => reports.length === 1, 'the valid report')
  expect(reports.map((delivered) => delivered.execId)).toEqual(['x-7'])
  expect(wanted).toEqual([venueClientOrderId('o-1'), cancelClientOrderId('o-2', 1), venueClientOrderId('o-2'), amendClientOrderId('o-3', 2)])
  const invalid = withCode(logged, JsonlLogCode.messageInvalid)
  expect(invalid).toHaveLength(6)
  expect(invalid[0]).toContain(`(report.lastPrice: `)
  expect(invalid[0]).toContain(`; read back: ["${venueClientOrderId('o-1')}"]`)
  for (const line of invalid.slice(3)) expect(line).not.toContain('read back')
})

test('a read-back subscriber that throws is logged; the next one is still told', async () => {
  const venue = startFakeVenue()
  const { client, logged, reports } = await connect(venue)
  const wanted: string[] = []
  client.onReadBackWanted(() => {
    throw new Error('boom')
  })
  const unsubscribe = client.onReadBackWanted((clientOrderId) => void wanted.push(clientOrderId))
  venue.send(encodeLine({ report: { ...report('x-1'), clientOrderId: venueClientOrderId('o-1'), cumQty: -1n } }) + encodeLine({ report: report('x-2') }))
  await until(() => reports.length === 1, 'the report after it')
  expect(wanted).toEqual([venueClientOrderId('o-1')])
  expect(logged.filter((line) => line.includes('read-back subscriber threw: boom'))).toHaveLength(1)
  // Unsubscribed: told no more.
  unsubscribe()
  venue.send(encodeLine({ report: { ...report('x-3'), clientOrderId: venueClientOrderId('o-3'), cumQty: -1n } }) + encodeLine({ report: report('x-4') }))
  await until(() => reports.length === 2, 'the second report after it')
  expect(wanted).toEqual([venueClientOrderId('o-1')])
})

test('a well-formed report naming another venue is dropped and asks the orders of ours it names read back', async () => {
  const venue = startFakeVenue()
  const { client, logged, reports } = await connect(venue)
  const wanted: string[] = []
  client.onReadBackWanted((clientOrderId) => void wanted.push(clientOrderId))
  const fill = { ...report('x-1'), kind: 'fill', venue: 'other', clientOrderId: venueClientOrderId('o-1'), cumQty: 1n, lastQty: 1n, lastPrice: 100n, fee: 0n, feeAsset: 'USD', liquidity: 'maker' }
  venue.send(
    encodeLine({ report: fill }) +
      // Another venue's report naming no order of ours: dropped, nothing read back.
      encodeLine({ report: { ...report('x-2'), venue: 'other', clientOrderId: 'theirs-2' } }) +
      encodeLine({ report: report('x-3') }),
  )
  await until(() => reports.length === 1, 'the report for this venue')
  expect(reports.map((delivered) => delivered.execId)).toEqual(['x-3'])
  expect(wanted).toEqual([venueClientOrderId('o-1')])
  const invalid = withCode(logged, JsonlLogCode.messageInvalid)
  expect(invalid).toHaveLength(2)
  expect(invalid[0]).toContain('dropped a report for venue "other"')
  expect(invalid[0]).toContain(`; read back: ["${venueClientOrderId('o-1')}"]`)
  expect(invalid[1]).not.toContain('read back')
})
