/**
 * An OrderCancelReplaceRequest re-declares the order's ExecInst (18): FIX does not carry it forward from the original
 * order ("original order values will not be brought forward to replacement order unless redefined within this
 * message", FIX 4.2 OrderCancelReplaceRequest). Before, the replace left it out: an amend of a post-only order
 * replaced it with one that may take liquidity, and of a reduce-only one with one that may increase the position —
 * the flag's guarantee gone at the venue while egress still held the order as post-only or reduce-only. The facts
 * the adapter asks the kernel's projection for after a restart (orderFactsLookup) carry it as well.
 */

import { describe, expect, test } from 'bun:test'
import { orderFactsLookup } from '../../../src/cli/serve-fix.ts'
import type { Engine } from '../../../src/runtime/engine.ts'
import type { FixMessage } from '../../../src/venues/fix/message.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { Harness } from '../../kernel/fixtures.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

/** A logged-on venue whose acceptor acks every place. */
async function acking(options: Parameters<typeof loggedOnVenue>[0] = {}) {
  const setup = await loggedOnVenue(options)
  setup.acceptor.onMessage = (m: FixMessage) => {
    if (m.msgType !== MsgType.NewOrderSingle) return
    queueMicrotask(() => setup.acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: m.get(Tag.ClOrdID) ?? '', 55: 'BTC-USD', 54: '1', 14: '0', 17: 'E1', 150: '0', 39: '0' })))
  }
  return setup
}

/** The replace sent for `origClientOrderId` amended to 2 at 99 (left unanswered). */
async function replaceOf(setup: Awaited<ReturnType<typeof loggedOnVenue>>, origClientOrderId: string): Promise<FixMessage> {
  void setup.venue.amend({ clientOrderId: `${origClientOrderId}.a1`, origClientOrderId, account: 'A1', symbol: 'BTC-USD', qty: 2_00000000n, price: 99_00000000n })
  await settle()
  const replace = setup.acceptor.ofType(MsgType.OrderCancelReplaceRequest).at(-1)
  if (replace === undefined) throw new Error('no OrderCancelReplaceRequest sent')
  return replace
}

describe('FIX: a replace re-declares the order\'s ExecInst', () => {
  test('post-only and reduce-only: the replace carries ExecInst "6 E", as the NewOrderSingle did', async () => {
    const setup = await acking()
    await setup.venue.place(limitBuy('c-1', { postOnly: true, reduceOnly: true }))
    expect(setup.acceptor.ofType(MsgType.NewOrderSingle)[0]?.get(Tag.ExecInst)).toBe('6 E')
    expect((await replaceOf(setup, 'c-1')).get(Tag.ExecInst)).toBe('6 E')
  })

  test('an order with neither: the replace carries no ExecInst', async () => {
    const setup = await acking()
    await setup.venue.place(limitBuy('c-1'))
    expect((await replaceOf(setup, 'c-1')).get(Tag.ExecInst)).toBeUndefined()
  })

  test('after a restart, the facts from the kernel\'s projection carry the flag to the replace', async () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ post_only: true, client_order_id: 'po-1' })
    const lookup = orderFactsLookup(() => ({ state: harness.state }) as unknown as Engine)
    const clientOrderId = harness.order(orderId).venueClientOrderId
    expect(lookup(clientOrderId)?.execInst).toBe('6')
    const setup = await acking({ lookupOrder: lookup })
    expect((await replaceOf(setup, clientOrderId)).get(Tag.ExecInst)).toBe('6')
  })
})
