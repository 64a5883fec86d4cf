import { describe, expect, test } from 'bun:test'
import type { FixMessage } from '../../../src/venues/fix/message.ts'
import type { FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, loggedOnVenue } from './venue-harness.ts'

const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2_00000000n, ordType: '2', timeInForce: '1', price: 100_00000000n, venueOrderId: 'O1' }
const lookupOrder = (id: string): FixOrderFacts | undefined => (id === 'c-1' ? facts : undefined)

/** An ExecType=I answer for c-1 with this cumulative quantity, echoing `requestId` as OrdStatusReqID when given. */
function statusAnswer(cumQty: string, requestId: string | undefined): ReturnType<typeof fields> {
  const echo = requestId === undefined ? {} : { [Tag.OrdStatusReqID]: requestId }
  return fields({ 37: 'O1', 11: 'c-1', 17: `S-${cumQty}`, 150: 'I', 39: '1', 55: 'BTC-USD', 54: '1', 38: '2', 14: cumQty, 44: '100', ...echo })
}

describe('FixVenue: which OrderStatusRequest a status answer completes', () => {
  test('a late answer to an earlier, timed-out query does not complete a newer query about the same order (OrdStatusReqID)', async () => {
    // Matched by ClOrdID alone, the first query's answer arriving after it timed out completed the second query with
    // the older news (here: 0.5 filled when the venue now says 1.5).
    const { acceptor, clock, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.4')
    const requests: FixMessage[] = []
    acceptor.onMessage = (message) => {
      if (message.msgType === MsgType.OrderStatusRequest) requests.push(message)
    }
    const first = venue.orderStatus('c-1')
    await settle()
    await clock.advanceAsync(2_001)
    expect((await first).kind).toBe('unknown')
    const second = venue.orderStatus('c-1')
    await settle()
    const [firstId, secondId] = requests.map((request) => request.get(Tag.OrdStatusReqID))
    expect(firstId).toBeDefined()
    expect(secondId).toBeDefined()
    expect(firstId).not.toBe(secondId)
    acceptor.send(MsgType.ExecutionReport, statusAnswer('0.5', firstId))
    acceptor.send(MsgType.ExecutionReport, statusAnswer('1.5', secondId))
    const outcome = await second
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })

  test('an answer that does not echo OrdStatusReqID is matched by ClOrdID', async () => {
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.4')
    acceptor.onMessage = (message) => {
      if (message.msgType === MsgType.OrderStatusRequest) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, statusAnswer('0.5', undefined)))
    }
    const outcome = await venue.orderStatus('c-1')
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(50000000n)
  })

  test('FIX 4.2, which has no OrdStatusReqID, sends none', async () => {
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2')
    acceptor.onMessage = (message) => {
      if (message.msgType === MsgType.OrderStatusRequest) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, statusAnswer('0.5', undefined)))
    }
    expect((await venue.orderStatus('c-1')).kind).toBe('ok')
    expect(acceptor.ofType(MsgType.OrderStatusRequest)[0]?.has(Tag.OrdStatusReqID)).toBe(false)
  })
})
