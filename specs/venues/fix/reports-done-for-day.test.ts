/**
 * Done for day (ExecType 3, OrdStatus 3) ends a day order only. A GTC or GTD order the venue reports done for the day
 * rests there, renewed and filled on a later day: read as expired, egress released its reservation, would not cancel it,
 * and booked the next day's fills as late ones on an ended order. The time in force is the message's (59), else the
 * one egress sent; with neither, done for day reads as ended, as before.
 */

import { describe, expect, test } from 'bun:test'
import { FixMessage } from '../../../src/venues/fix/message.ts'
import { mapExecutionReport, mapStatusReport, type FixOrderFacts } from '../../../src/venues/fix/reports.ts'

const UNIT = 100_000_000n
const facts = (timeInForce: string): FixOrderFacts => ({ clientOrderId: 'eg-o1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2n * UNIT, price: 100n * UNIT, ordType: '2', timeInForce })
const message = (fields: Record<number, string>) => new FixMessage('FIX.4.4', Object.entries(fields).map(([tag, value]) => [Number(tag), value] as const))
const doneForDay = (more: Record<number, string> = {}) => message({ 35: '8', 11: 'eg-o1', 37: 'V1', 17: 'E9', 150: '3', 39: '3', 54: '1', 55: 'BTC-USD', 14: '0.5', 151: '1.5', ...more })
const statusAnswer = (cumQty: string, more: Record<number, string> = {}) => message({ 35: '8', 11: 'eg-o1', 37: 'V1', 17: 'S1', 150: 'I', 39: '3', 54: '1', 55: 'BTC-USD', 14: cumQty, 38: '2', ...more })

describe('FIX done for day', () => {
  test('an ExecutionReport of it ends a day order and is no transition for a GTC or GTD one', () => {
    const day = mapExecutionReport('v', doneForDay(), facts('0'), 0)
    expect(day.kind === 'mapped' ? day.value.kind : day.kind).toBe('expired')
    for (const timeInForce of ['1', '6']) {
      expect(mapExecutionReport('v', doneForDay(), facts(timeInForce), 0)).toMatchObject({ kind: 'ignored', why: expect.stringContaining('Done for day') })
    }
    // The message's own time in force wins over the one egress sent; with neither known it ends the order, as before.
    expect(mapExecutionReport('v', doneForDay({ 59: '1' }), facts('0'), 0).kind).toBe('ignored')
    const unknown = mapExecutionReport('v', doneForDay(), undefined, 0)
    expect(unknown.kind === 'mapped' ? unknown.value.kind : unknown.kind).toBe('expired')
  })

  test('a status answer of it reads a GTC order as still open there, partly filled or not, and a day order as expired', () => {
    const statusOf = (answer: FixMessage, timeInForce: string) => {
      const mapped = mapStatusReport(answer, facts(timeInForce), 0)
      return mapped.kind === 'mapped' ? mapped.value?.status : mapped.kind
    }
    expect(statusOf(statusAnswer('0.5'), '1')).toBe('partially_filled')
    expect(statusOf(statusAnswer('0'), '1')).toBe('open')
    expect(statusOf(statusAnswer('0.5'), '0')).toBe('expired')
  })

  test('only with quantity left and OrdStatus 3: a GTC order the venue reports otherwise ended keeps that reading', () => {
    // Review finding: ExecType 3 alone decided it, and a status answer ignored LeavesQty.
    for (const ordStatus of ['4', 'C']) {
      const ended = mapExecutionReport('v', doneForDay({ 39: ordStatus, 151: '0' }), facts('1'), 0)
      expect(ended.kind === 'mapped' ? ended.value.kind : ended.kind).toBe('expired')
    }
    const nothingLeft = mapExecutionReport('v', doneForDay({ 151: '0' }), facts('1'), 0)
    expect(nothingLeft.kind === 'mapped' ? nothingLeft.value.kind : nothingLeft.kind).toBe('expired')
    const status = mapStatusReport(statusAnswer('0.5', { 151: '0' }), facts('1'), 0)
    expect(status.kind === 'mapped' ? status.value?.status : status.kind).toBe('expired')
  })

  test('the time in force values FIX 5.0 SP2 added are read, not refused: A (good for time) and C (good for this month) may rest, B (good for auction) ends', () => {
    // They were refused on tag 59 as values FIX does not define (QuickFIX's FIX50SP2 dictionary defines A, B and C).
    for (const timeInForce of ['A', 'C']) {
      expect(mapExecutionReport('v', doneForDay({ 59: timeInForce }), facts('0'), 0)).toMatchObject({ kind: 'ignored', why: expect.stringContaining('Done for day') })
      const status = mapStatusReport(statusAnswer('0.5', { 59: timeInForce }), facts('0'), 0)
      expect(status.kind === 'mapped' ? status.value?.status : status.kind).toBe('partially_filled')
    }
    const auction = mapExecutionReport('v', doneForDay({ 59: 'B' }), facts('1'), 0)
    expect(auction.kind === 'mapped' ? auction.value.kind : auction.kind).toBe('expired')
    // Outside the dictionary, still refused on tag 59, as a value out of range (373=5).
    for (const timeInForce of ['D', 'a', '10']) expect(mapExecutionReport('v', doneForDay({ 59: timeInForce }), facts('1'), 0)).toMatchObject({ kind: 'invalid', tag: 59, reason: 5 })
  })
})
