/**
 * A trade bust or correction (ExecType H or G; in FIX 4.2 ExecTransType 1 or 2) takes back or changes a trade egress
 * booked. Before, it was only logged: the order was not read back, so nothing recorded the venue's view of it and the
 * overstated fills went unseen. Now it is still not booked and still an error for an operator, naming the report's
 * ExecID, the busted trade's ExecRefID and the order, and the order is read back (reports.ts tradeBust), whose
 * reconcile raises RECONCILE_CUM_BELOW when the venue's CumQty is below egress's (specs/kernel/reconcile-cum-below).
 */

import { describe, expect, test } from 'bun:test'
import type { FixLogRecord } from '../../../src/venues/fix/log.ts'
import { FixMessage } from '../../../src/venues/fix/message.ts'
import { mapExecutionReport, type FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

const NOW_MS = 1_700_000_000_000
const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 1_50000000n, ordType: '2', timeInForce: '1' }
const bust = (over: Record<number, string> = {}) => ({ 37: 'O1', 11: 'c-1', 17: 'B1', 19: 'F1', 150: 'H', 39: '0', 54: '1', 55: 'BTC-USD', 38: '1.5', 14: '0', 32: '0.5', 31: '100', ...over })
const message = (over: Record<number, string> = {}, beginString = 'FIX.4.4') => new FixMessage(beginString, fields({ [Tag.MsgType]: MsgType.ExecutionReport, ...bust(over) }))

describe('mapExecutionReport: trade busts and corrections', () => {
  const cases: [string, FixMessage][] = [
    ['ExecType H (Trade Cancel)', message()],
    ['ExecType G (Trade Correct)', message({ 150: 'G', 14: '0.4', 32: '0.4' })],
    ['ExecTransType 1 (Cancel, FIX 4.2)', message({ 20: '1', 150: '2' }, 'FIX.4.2')],
    ['ExecTransType 2 (Correct, FIX 4.2)', message({ 20: '2', 150: '1' }, 'FIX.4.2')],
  ]
  for (const [name, report] of cases) {
    test(`${name} is not booked: its order is read back, and an operator is told the ExecID, the trade's ExecRefID and the order`, () => {
      const mapped = mapExecutionReport('v', report, facts, NOW_MS)
      expect(mapped).toMatchObject({ kind: 'ignored', readBack: true, why: expect.stringMatching(/ExecID B1 of the trade ExecRefID F1, order c-1 .*operator/) })
    })
  }
})

describe('FixVenue: a fill the venue busts', () => {
  test('reports nothing past the fill, reads the order back and logs an error naming the busted trade; no Reject', async () => {
    const logs: FixLogRecord[] = []
    const { acceptor, venue, reports } = await loggedOnVenue({}, 'FIX.4.4', (record) => logs.push(record))
    const readBacks: string[] = []
    venue.onReadBackWanted((id) => readBacks.push(id))
    acceptor.onMessage = (m) => {
      if (m.msgType === MsgType.NewOrderSingle) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'E1', 150: '0', 39: '0', 54: '1', 55: 'BTC-USD', 14: '0' })))
    }
    expect((await venue.place(limitBuy('c-1'))).kind).toBe('ok')
    acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'F1', 150: 'F', 39: '1', 54: '1', 55: 'BTC-USD', 14: '0.5', 32: '0.5', 31: '100' }))
    acceptor.send(MsgType.ExecutionReport, fields(bust()))
    await settle()
    expect(reports.map((r) => r.execId)).toEqual(['E1', 'F1'])
    expect(readBacks).toEqual(['c-1'])
    const ignored = logs.filter((record) => record.event === 'fix.report_ignored')
    expect(ignored.map((record) => record.level)).toEqual(['error'])
    expect(ignored[0]?.message).toContain('ExecID B1 of the trade ExecRefID F1')
    expect(acceptor.ofType(MsgType.Reject)).toEqual([])
  })
})
