import { describe, expect, test } from 'bun:test'
import { SimClock } from '../../../src/runtime/clock.ts'
import type { FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MemoryFixSessionStore } from '../../../src/venues/fix/store.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { FixVenue } from '../../../src/venues/fix/venue.ts'
import { resolveFixVenueOptions } from '../../../src/venues/fix/venue-options.ts'
import { STATUS_QUERIES_OWED_MAX, StatusQueriesOwed, type StatusQueryOwed } from '../../../src/venues/fix/venue-status-owed.ts'
import { settle } from './fake-acceptor.ts'
import { fields, loggedOnVenue } from './venue-harness.ts'

const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2_00000000n, ordType: '2', timeInForce: '1', price: 100_00000000n, venueOrderId: 'O1' }
const lookupOrder = (id: string): FixOrderFacts | undefined => (id === 'c-1' ? facts : undefined)

/** A FIX 4.2 status answer (ExecTransType=3) for c-1 with this cumulative quantity, and LastMsgSeqNumProcessed when given. */
function statusAnswer42(cumQty: string, lastProcessed?: string): ReturnType<typeof fields> {
  const processed = lastProcessed === undefined ? {} : { [Tag.LastMsgSeqNumProcessed]: lastProcessed }
  return fields({ ...processed, 37: 'O1', 11: 'c-1', 17: '0', 20: '3', 150: '1', 39: '1', 55: 'BTC-USD', 54: '1', 38: '2', 14: cumQty, 44: '100' })
}

describe('FIX 4.2 status queries owed an answer are written off after statusOwedWriteOffMs', () => {
  test('a query the venue never answers no longer blocks the order: after the write-off the next query goes, and its answer settles it', async () => {
    // Nothing wrote a debt off by time: a venue that never answered one query left every later status query about
    // the order `unknown` (fix_status_answer_owed, never sent) until a sequence reset.
    const { acceptor, clock, venue } = await loggedOnVenue({ lookupOrder, statusOwedWriteOffMs: 6_000 }, 'FIX.4.2')
    const first = venue.orderStatus('c-1')
    await settle()
    await clock.advanceAsync(2_001)
    expect((await first).kind).toBe('unknown')
    const owed = await venue.orderStatus('c-1')
    expect(owed.kind === 'unknown' && owed.reason).toStartWith('fix_status_answer_owed')
    await clock.advanceAsync(3_999)
    expect(acceptor.ofType(MsgType.OrderStatusRequest)).toHaveLength(1)
    const later = venue.orderStatus('c-1')
    await settle()
    expect(acceptor.ofType(MsgType.OrderStatusRequest)).toHaveLength(2)
    acceptor.send(MsgType.ExecutionReport, statusAnswer42('1.5'))
    const outcome = await later
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })

  test('an answer sent before the venue received the owed query (LastMsgSeqNumProcessed two below its MsgSeqNum) does not settle it', async () => {
    // The late answer to the written-off query, arriving while the next one waits: the venue says it had not yet
    // received the next query when it sent this (QuickFIX stamps the first query's MsgSeqNum less one on its answer),
    // so it cannot be that query's answer.
    const { acceptor, clock, venue } = await loggedOnVenue({ lookupOrder, statusOwedWriteOffMs: 6_000 }, 'FIX.4.2')
    const first = venue.orderStatus('c-1')
    await settle()
    await clock.advanceAsync(6_000)
    expect((await first).kind).toBe('unknown')
    const second = venue.orderStatus('c-1')
    await settle()
    const [firstSeqNum, secondSeqNum] = acceptor.ofType(MsgType.OrderStatusRequest).map((request) => request.get(Tag.MsgSeqNum) ?? '')
    expect(Number(secondSeqNum)).toBe(Number(firstSeqNum) + 1)
    acceptor.send(MsgType.ExecutionReport, statusAnswer42('0.5', String(Number(firstSeqNum) - 1)))
    acceptor.send(MsgType.ExecutionReport, statusAnswer42('1.5', String(Number(secondSeqNum) - 1)))
    const outcome = await second
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })

  test('the bound: at STATUS_QUERIES_OWED_MAX the table is full, and written-off queries free it (each one told)', () => {
    const clock = new SimClock({ startMs: 1_700_000_000_000 })
    const writtenOff: StatusQueryOwed[] = []
    const owed = new StatusQueriesOwed({ clock, writeOffMs: 10_000, onWrittenOff: (query) => writtenOff.push(query) })
    for (let index = 0; index < STATUS_QUERIES_OWED_MAX; index++) owed.sent(`c-${index}`, index + 2, undefined)
    expect(owed.full).toBe(true)
    clock.advance(9_999)
    expect(owed.full).toBe(true)
    expect(owed.owedFor('c-7')?.seqNum).toBe(9)
    clock.advance(1)
    expect(owed.owedFor('c-7')).toBeUndefined()
    expect(owed.full).toBe(false)
    expect(owed.size).toBe(0)
    expect(writtenOff).toHaveLength(STATUS_QUERIES_OWED_MAX)
    expect(writtenOff[0]?.clientOrderId).toBe('c-7')
    expect(writtenOff[1]).toEqual({ clientOrderId: 'c-0', seqNum: 2, sentAtMs: 1_700_000_000_000, requestId: undefined })
  })

  test('statusOwedWriteOffMs defaults to 12 status timeouts and may not be shorter than one', () => {
    expect(resolveFixVenueOptions({ venue: 'v', session: {} as never, statusTimeoutMs: 5_000 }).statusOwedWriteOffMs).toBe(60_000)
    const session = { beginString: 'FIX.4.2', senderCompId: 'EGRESS', targetCompId: 'EXEC', host: 'h', port: 1, store: new MemoryFixSessionStore(), clock: new SimClock({ startMs: 0 }) } as const
    expect(() => new FixVenue({ venue: 'v', session, statusTimeoutMs: 2_000, statusOwedWriteOffMs: 1_999 })).toThrow('statusOwedWriteOffMs must be at least statusTimeoutMs (2000), got 1999')
    expect(() => new FixVenue({ venue: 'v', session, statusOwedWriteOffMs: 0 })).toThrow('statusOwedWriteOffMs must be a positive integer, got 0')
  })
})
