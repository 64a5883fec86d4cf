/**
 * serve's in-process sim venue holds the paper fundings as deposits (SimVenueOptions.deposits): the sim refuses a
 * reduce-only order that would trade past the account's position there, and without them a reduce-only sell of a
 * funded asset — every close a flatten sends — was refused as reduce_only_would_increase.
 */

import { afterEach, expect, test } from 'bun:test'
import { CROSSING, PaperRestarts, TRADER, until } from './paper-restart-harness.ts'

const harness = new PaperRestarts()
afterEach(() => harness.cleanup())

test('a reduce-only sell of funded BTC trades at the sim', async () => {
  const served = await harness.start(harness.newDataDir())
  const sell = { ...CROSSING, side: 'sell', price: '59000', reduce_only: true }
  const placed = await served.gateway.place(TRADER, { ...sell, qty: '1' }, 'ro-1')
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  const orderId = placed.reply.orderId
  const order = () => served.gateway.engine.state.orders.get(orderId)
  await until(() => order()?.status === 'Filled' || order()?.status === 'Rejected')
  expect({ status: order()?.status, cumQty: order()?.cumQty }).toEqual({ status: 'Filled', cumQty: 1_00000000n })
})
