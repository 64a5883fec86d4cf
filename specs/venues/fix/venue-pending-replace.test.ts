/**
 * An OrderCancelReplaceRequest answered Pending Replace (ExecType E) has not been replaced: the venue has only taken
 * the request, and may still refuse it (OrderCancelReject, 35=9). Taken as the amend's `ok`, the kernel applied the new
 * quantity and price and the order's id chain moved to the amend's ClOrdID; the venue's refusal that followed then
 * found no amend open and changed nothing, so egress held (and reserved for) terms the venue never took, and its next
 * cancel named a ClOrdID the venue did not know. The amend's answer is the Replaced (ExecType 5) or the reject after it.
 */

import { describe, expect, test } from 'bun:test'
import type { FixMessage } from '../../../src/venues/fix/message.ts'
import { FixReason } from '../../../src/venues/fix/reasons.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

const amendRequest = { clientOrderId: 'a-1', origClientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', qty: 2_00000000n, price: 99_00000000n }
const common = { 37: 'O9', 55: 'BTC-USD', 54: '1', 14: '0' }

/** A venue that acks the place, answers the replace Pending Replace, then `final` (Replaced, or a refusal). */
async function pendingThen(final: 'replaced' | 'refused') {
  const setup = await loggedOnVenue()
  setup.acceptor.onMessage = (m: FixMessage) => {
    if (m.msgType === MsgType.NewOrderSingle) queueMicrotask(() => setup.acceptor.send(MsgType.ExecutionReport, fields({ ...common, 11: 'c-1', 17: 'E1', 150: '0', 39: '0' })))
    if (m.msgType !== MsgType.OrderCancelReplaceRequest) return
    queueMicrotask(() => {
      setup.acceptor.send(MsgType.ExecutionReport, fields({ ...common, 11: 'a-1', 41: 'c-1', 17: 'E2', 150: 'E', 39: 'E', 38: '1.5' }))
      if (final === 'replaced') setup.acceptor.send(MsgType.ExecutionReport, fields({ ...common, 11: 'a-1', 41: 'c-1', 17: 'E3', 150: '5', 39: '0', 38: '2' }))
      else setup.acceptor.send(MsgType.OrderCancelReject, fields({ 37: 'O9', 11: 'a-1', 41: 'c-1', 39: '0', 434: '2', 102: '0', 58: 'price out of range' }))
    })
  }
  await setup.venue.place(limitBuy('c-1'))
  return setup
}

describe('FixVenue: an amend answered Pending Replace', () => {
  test('then refused: the amend is rejected, not ok', async () => {
    const { venue, reports } = await pendingThen('refused')
    expect(await venue.amend(amendRequest)).toEqual({ kind: 'rejected', reason: `${FixReason.cancelRejected}: CxlRejReason 0: price out of range` })
    await settle()
    expect(reports.filter((r) => r.kind === 'cancel_rejected').map((r) => [r.clientOrderId, r.origClientOrderId])).toEqual([['a-1', 'c-1']])
  })

  test('then Replaced: the amend is ok', async () => {
    const { venue, reports } = await pendingThen('replaced')
    expect(await venue.amend(amendRequest)).toEqual({ kind: 'ok', value: { accepted: true } })
    await settle()
    expect(reports.filter((r) => r.kind === 'replaced').map((r) => r.clientOrderId)).toEqual(['a-1'])
  })
})
