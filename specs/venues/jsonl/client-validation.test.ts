import { afterEach, describe, expect, test } from 'bun:test'
import { LINE_BYTES_MAX, encodeLine } from '../../../src/venues/jsonl/index.ts'
import { JsonlLogCode, JsonlReason } from '../../../src/venues/jsonl/reasons.ts'
import { ORDER, PLACE, connect, report, requestId, startFakeVenue, stopFakeVenues, until, withCode } from './fake-venue.ts'

afterEach(stopFakeVenues)

describe('JSONL client: lines the venue sends', () => {
  test('a line that is not JSON is logged and skipped; the report after it in the same chunk is delivered', async () => {
    const venue = startFakeVenue()
    const { logged, reports } = await connect(venue)
    venue.send(`{not json\n${encodeLine({ report: report('x-1') })}`)
    await until(() => reports.length === 1, 'the report')
    expect(reports).toEqual([report('x-1')])
    expect(withCode(logged, JsonlLogCode.lineMalformed)).toHaveLength(1)
  })

  test('JSON of no known shape (not an object, no known member, a bad id) is logged and skipped', async () => {
    const venue = startFakeVenue()
    const { logged, reports } = await connect(venue)
    venue.send(`[1,2]\n{"hello":1}\n${encodeLine({ id: 'one', result: null })}${encodeLine({ report: report('x-1') })}`)
    await until(() => reports.length === 1, 'the report')
    const invalid = withCode(logged, JsonlLogCode.messageInvalid)
    expect(invalid).toHaveLength(3)
    expect(invalid[2]).toContain('(id: ')
  })

  test('a log line names the problem, never the whole payload', async () => {
    const venue = startFakeVenue()
    const { logged, reports } = await connect(venue)
    const huge = 'z'.repeat(100_000)
    venue.send(`{${huge}\n${encodeLine({ report: { ...report('x-1'), cumQty: huge } })}${encodeLine({ report: report('x-2') })}`)
    await until(() => reports.length === 1, 'the report')
    expect(logged).toHaveLength(2)
    for (const line of logged) expect(line.length).toBeLessThan(500)
    expect(logged[1]).toContain('report.cumQty')
  })

  test('an overlong line drops the connection: lines before it are read, the pending call resolves unknown, nothing throws', async () => {
    const venue = startFakeVenue()
    const { client, logged, reports } = await connect(venue)
    const outcome = client.place(PLACE)
    await requestId(venue, 1)
    venue.send(`${encodeLine({ report: report('x-1') })}${'x'.repeat(LINE_BYTES_MAX + 1)}`)
    expect(await outcome).toEqual({ kind: 'unknown', reason: 'jsonl_disconnected: venue connection lost' })
    expect(reports).toEqual([report('x-1')])
    expect(withCode(logged, JsonlLogCode.lineTooLong)).toHaveLength(1)
    // The client reconnects and works on the new connection.
    await until(() => venue.connections === 2, 'the reconnect')
    const next = client.cancel({ clientOrderId: 'c-2', origClientOrderId: 'c-1', account: 'acct-a', symbol: 'BTC-USD' })
    venue.send(encodeLine({ id: await requestId(venue, 2), result: { kind: 'ok', value: { accepted: true } } }))
    expect(await next).toEqual({ kind: 'ok', value: { accepted: true } })
  })
})

describe('JSONL client: reports and prices', () => {
  test('a report with a missing, ill-typed or unknown member is dropped and logged with its path', async () => {
    const venue = startFakeVenue()
    const { logged, reports } = await connect(venue)
    const { execId: _execId, ...missing } = report('x-1')
    venue.send(
      encodeLine({ report: missing }) +
        encodeLine({ report: { ...report('x-2'), cumQty: '5' } }) +
        encodeLine({ report: { ...report('x-3'), kind: 'bogus' } }) +
        encodeLine({ report: { ...report('x-4'), lastQty: 0n } }) +
        encodeLine({ report: { ...report('x-5'), extra: 1 } }),
    )
    // Lines are read in order: once this one arrives, the five before it were read.
    venue.send(encodeLine({ report: report('x-6') }))
    await until(() => reports.length === 1, 'the valid report')
    expect(reports.map((delivered) => delivered.execId)).toEqual(['x-6'])
    const invalid = withCode(logged, JsonlLogCode.messageInvalid)
    expect(invalid).toHaveLength(5)
    for (const [index, path] of ['report.execId', 'report.cumQty', 'report.kind', 'report.lastQty', 'report.extra'].entries()) expect(invalid[index]).toContain(`(${path}: `)
  })

  test('a report naming another venue than the connection is dropped and logged', async () => {
    const venue = startFakeVenue()
    const { logged, reports } = await connect(venue)
    venue.send(encodeLine({ report: { ...report('x-1'), venue: 'other' } }))
    venue.send(encodeLine({ report: report('x-2') }))
    await until(() => reports.length === 1, 'the report for this venue')
    expect(reports.map((delivered) => delivered.execId)).toEqual(['x-2'])
    expect(withCode(logged, JsonlLogCode.messageInvalid)).toEqual([expect.stringContaining('dropped a report for venue "other"')])
  })

  test('a report subscriber that throws is logged; later subscribers and later lines still get their turn', async () => {
    const venue = startFakeVenue()
    const { client, logged, reports } = await connect(venue)
    const after: string[] = []
    client.onReport(() => {
      throw new Error('subscriber bug')
    })
    client.onReport((delivered) => void after.push(delivered.execId))
    venue.send(encodeLine({ report: report('x-1') }) + encodeLine({ report: report('x-2') }))
    await until(() => after.length === 2, 'both reports past the throwing subscriber')
    expect(reports.map((delivered) => delivered.execId)).toEqual(['x-1', 'x-2'])
    expect(logged.filter((line) => line.includes('a report subscriber threw'))).toEqual([expect.stringContaining('subscriber bug'), expect.stringContaining('subscriber bug')])
  })

  test('a bad price entry is dropped; the valid entry beside it is cached', async () => {
    const venue = startFakeVenue()
    const { client, logged } = await connect(venue)
    venue.send(encodeLine({ prices: [{ symbol: 'ETH-USD', price: '3000', observedAtMs: 2 }, { symbol: 'SOL-USD', price: 150n, observedAtMs: 3 }] }))
    await until(() => client.referencePrice('SOL-USD') !== null, 'the valid price')
    expect(client.referencePrice('SOL-USD')).toEqual({ price: 150n, observedAtMs: 3 })
    expect(client.referencePrice('ETH-USD')).toBeNull()
    expect(withCode(logged, JsonlLogCode.messageInvalid)).toEqual([expect.stringContaining('dropped 1 of 2 price entries (first: prices.0.price: ')])
  })

  test('a price entry with a touch is cached with it; one whose touch has a negative size is dropped', async () => {
    const venue = startFakeVenue()
    const { client, logged } = await connect(venue)
    const touch = { bidPrice: 149n, bidQty: 0n, askPrice: 151n, askQty: 7n }
    venue.send(encodeLine({
      prices: [
        { symbol: 'SOL-USD', price: 150n, observedAtMs: 3, touch },
        { symbol: 'ETH-USD', price: 3000n, observedAtMs: 3, touch: { ...touch, bidQty: -1n } },
        { symbol: 'XRP-USD', price: 3000n, observedAtMs: 3, touch: { ...touch, askPrice: '151' } },
      ],
    }))
    await until(() => client.referencePrice('SOL-USD') !== null, 'the valid price')
    expect(client.referencePrice('SOL-USD')).toEqual({ price: 150n, observedAtMs: 3, touch })
    expect(client.referencePrice('ETH-USD')).toBeNull()
    expect(client.referencePrice('XRP-USD')).toBeNull()
    expect(withCode(logged, JsonlLogCode.messageInvalid)).toEqual([expect.stringContaining('dropped 2 of 3 price entries (first: prices.1.touch.bidQty: ')])
  })

  // A newer sim server adds members to its price entries (the touch was one, a depth of the touch could be the next):
  // an older client whose entries were strict dropped every price of every push. Now the prices are read without the
  // members the client does not know, and those are named once per connection.
  test('price entries from a newer venue (members this client does not know): read without them, named once per connection', async () => {
    const venue = startFakeVenue()
    const { client, logged } = await connect(venue)
    const touch = { bidPrice: 149n, bidQty: 0n, askPrice: 151n, askQty: 7n }
    const push = (observedAtMs: number): string => encodeLine({
      prices: [
        { symbol: 'SOL-USD', price: 150n, observedAtMs, touch: { ...touch, levels: 2 } },
        { symbol: 'ETH-USD', price: 3000n, observedAtMs, source: 'mid', touch },
      ],
    })
    venue.send(push(3) + push(4))
    await until(() => client.referencePrice('ETH-USD')?.observedAtMs === 4, 'the second push')
    expect(client.referencePrice('SOL-USD')).toEqual({ price: 150n, observedAtMs: 4, touch })
    expect(client.referencePrice('ETH-USD')).toEqual({ price: 3000n, observedAtMs: 4, touch })
    expect(withCode(logged, JsonlLogCode.messageInvalid)).toEqual([])
    expect(withCode(logged, 'VENUE_MEMBERS_UNKNOWN')).toEqual([
      'VENUE_MEMBERS_UNKNOWN: prices read without members this client does not know (a newer venue?): "touch.levels", "source"',
    ])
    // A member the client reads, of the wrong type, still drops its entry.
    venue.send(encodeLine({ prices: [{ symbol: 'SOL-USD', price: 150, observedAtMs: 5, extra: true }] }))
    await until(() => withCode(logged, JsonlLogCode.messageInvalid).length === 1, 'the dropped entry')
    expect(client.referencePrice('SOL-USD')?.observedAtMs).toBe(4)
    expect(withCode(logged, 'VENUE_MEMBERS_UNKNOWN')).toHaveLength(1)
  })

  test('an info message carrying an amount is logged and ignored, not thrown', async () => {
    const venue = startFakeVenue()
    const { client, logged } = await connect(venue)
    venue.send(encodeLine({ info: { tradeHistoryMs: 5n } }) + encodeLine({ report: report('x-1') }))
    await until(() => logged.length === 1, 'the log line')
    expect(logged).toEqual(['VENUE_MESSAGE_INVALID: venue info ignored: tradeHistoryMs must be a non-negative integer of ms, got {"$units":"5"}'])
    expect(client.tradeHistoryMs).toBeUndefined()
  })
})

describe('JSONL client: answers', () => {
  test('a place answered ok without the PlaceAck members resolves unknown (the venue may have acted)', async () => {
    const venue = startFakeVenue()
    const { client, logged } = await connect(venue)
    const outcome = client.place(PLACE)
    venue.send(encodeLine({ id: await requestId(venue, 1), result: { kind: 'ok', value: {} } }))
    const answered = await outcome
    expect(answered.kind).toBe('unknown')
    expect(answered.kind === 'unknown' && answered.reason).toStartWith(`${JsonlReason.answerInvalid}: result.value.venueOrderId: `)
    expect(withCode(logged, JsonlLogCode.messageInvalid)).toEqual([expect.stringContaining('the answer to place request')])
  })

  test('an answer is checked against the op it answers: a PlaceAck answering a cancel resolves unknown', async () => {
    const venue = startFakeVenue()
    const { client } = await connect(venue)
    const outcome = client.cancel({ clientOrderId: 'c-2', origClientOrderId: 'c-1', account: 'acct-a', symbol: 'BTC-USD' })
    venue.send(encodeLine({ id: await requestId(venue, 1), result: { kind: 'ok', value: { venueOrderId: 'v-1' } } }))
    const answered = await outcome
    expect(answered.kind === 'unknown' && answered.reason).toStartWith(`${JsonlReason.answerInvalid}: result.value.`)
  })

  test('an answer of no known outcome kind, or with a bad retryAfterMs, resolves unknown', async () => {
    const venue = startFakeVenue()
    const { client } = await connect(venue)
    const results = [{ kind: 'maybe' }, { kind: 'retryable', reason: 'busy', retryAfterMs: -1 }, { kind: 'rejected' }]
    for (const [index, result] of results.entries()) {
      const outcome = client.place(PLACE)
      venue.send(encodeLine({ id: await requestId(venue, index + 1), result }))
      expect((await outcome).kind).toBe('unknown')
    }
  })

  test('answers that fit their op are passed on as the venue sent them', async () => {
    const venue = startFakeVenue()
    const { client } = await connect(venue)
    const trade = {
      execId: 'x-1', clientOrderId: 'c-1', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy' as const, qty: 2n, price: 100n,
      fee: -1n, feeAsset: 'USD', liquidity: 'maker' as const, venueTimeMs: 7,
    }
    const cases: [() => Promise<unknown>, unknown][] = [
      [() => client.place(PLACE), { kind: 'ok', value: { venueOrderId: 'v-1' } }],
      [() => client.place(PLACE), { kind: 'rejected', reason: 'duplicate_client_order_id' }],
      [() => client.place(PLACE), { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 20 }],
      [() => client.place(PLACE), { kind: 'unknown', reason: 'timeout' }],
      [() => client.amend({ clientOrderId: 'c-3', origClientOrderId: 'c-1', account: 'acct-a', symbol: 'BTC-USD', qty: 3n }), { kind: 'ok', value: { accepted: true } }],
      [() => client.orderStatus('c-9'), { kind: 'ok', value: null }],
      [() => client.orderStatus('c-1'), { kind: 'ok', value: ORDER }],
      [() => client.openOrders('acct-a'), { kind: 'ok', value: [ORDER] }],
      [() => client.trades({ account: 'acct-a' }), { kind: 'ok', value: [trade] }],
      [() => client.balances('acct-a'), { kind: 'ok', value: [{ account: 'acct-a', asset: 'USD', total: -5n }] }],
    ]
    for (const [index, [call, result]] of cases.entries()) {
      const outcome = call()
      venue.send(encodeLine({ id: await requestId(venue, index + 1), result }))
      expect(await outcome).toEqual(result)
    }
  })
})
