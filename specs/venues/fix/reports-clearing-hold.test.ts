/**
 * ExecType J (Trade in a Clearing Hold) and K (Trade has been released to Clearing) report a trade. They were ignored as
 * carrying no transition (logged at debug): a venue that reported a fill as J lost it, silently. Neither is booked from
 * the report (a J and an F for the same trade carry two ExecIDs, and the kernel would book both); the order is read
 * back instead, which books what the venue's CumQty holds beyond egress's, once, and an F that comes later is placed
 * against that synthetic fill (specs/kernel/synthetic-cover.test.ts). A J with LastQty above 0 is an error for an
 * operator, as G and H are; a K (of a trade booked it moves nothing) is logged at debug.
 */

import { describe, expect, test } from 'bun:test'
import { FixMessage } from '../../../src/venues/fix/message.ts'
import { mapExecutionReport, type FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { ackedOrder, fields } from './venue-harness.ts'

const NOW_MS = 1_700_000_000_000
const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 1_50000000n, ordType: '2', timeInForce: '1' }
const trade = (over: Record<number, string> = {}) => ({ 37: 'O1', 11: 'c-1', 17: 'J1', 150: 'J', 39: '1', 54: '1', 55: 'BTC-USD', 38: '1.5', 14: '0.5', 32: '0.5', 31: '100.25', ...over })
const message = (over: Record<number, string> = {}) => new FixMessage('FIX.4.4', fields({ [Tag.MsgType]: MsgType.ExecutionReport, ...trade(over) }))

describe('mapExecutionReport: ExecType J and K', () => {
  test('a J with LastQty above 0 is not booked from the report: its order is read back, and an operator is told', () => {
    const mapped = mapExecutionReport('v', message(), facts, NOW_MS)
    expect(mapped).toMatchObject({ kind: 'ignored', readBack: true, why: expect.stringMatching(/clearing hold.*operator/) })
  })

  test('a J without a quantity is read back too, without calling an operator', () => {
    const { 32: _lastQty, ...noLastQty } = trade()
    const withoutLastQty = new FixMessage('FIX.4.4', fields({ [Tag.MsgType]: MsgType.ExecutionReport, ...noLastQty }))
    for (const held of [message({ 32: '0' }), withoutLastQty]) {
      const mapped = mapExecutionReport('v', held, facts, NOW_MS)
      expect(mapped).toMatchObject({ kind: 'ignored', readBack: true })
      expect(mapped.kind === 'ignored' && /operator/.test(mapped.why)).toBe(false)
    }
  })

  test('a K is not booked from the report (of a trade booked it moves nothing): its order is read back, no operator called', () => {
    const mapped = mapExecutionReport('v', message({ 150: 'K', 17: 'K1' }), facts, NOW_MS)
    expect(mapped).toMatchObject({ kind: 'ignored', readBack: true, why: expect.stringContaining('released to clearing') })
    expect(mapped.kind === 'ignored' && /operator/.test(mapped.why)).toBe(false)
  })

  test('a J or K whose LastQty egress cannot read is refused on tag 32, as a fill is', () => {
    for (const execType of ['J', 'K']) {
      for (const lastQty of ['abc', '-1']) expect(mapExecutionReport('v', message({ 150: execType, 32: lastQty }), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.LastQty })
    }
  })
})

describe('FixVenue: a trade in or out of a clearing hold', () => {
  test('a J of 0.5 reports no fill, reads the order back and logs an error for an operator; no Reject', async () => {
    const { acceptor, reports, readBacks, logs } = await ackedOrder()
    acceptor.send(MsgType.ExecutionReport, fields(trade()))
    await settle()
    expect(reports.map((r) => r.execId)).toEqual(['E1'])
    expect(readBacks).toEqual(['c-1'])
    expect(logs.filter((record) => record.event === 'fix.report_ignored').map((record) => record.level)).toEqual(['error'])
    expect(acceptor.ofType(MsgType.Reject)).toEqual([])
  })

  test('a K that follows reads the order back again (a venue may count the trade in CumQty only once released), logged at debug', async () => {
    const { acceptor, reports, readBacks, logs } = await ackedOrder()
    acceptor.send(MsgType.ExecutionReport, fields(trade()))
    acceptor.send(MsgType.ExecutionReport, fields(trade({ 150: 'K', 17: 'K1' })))
    await settle()
    expect(reports.map((r) => r.execId)).toEqual(['E1'])
    expect(readBacks).toEqual(['c-1', 'c-1'])
    expect(logs.filter((record) => record.event === 'fix.report_ignored').map((record) => record.level)).toEqual(['error', 'debug'])
  })
})
