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

test('after a restart on a config whose opening BTC was lowered, a reduce-only sell of the BTC the log funded trades at the sim', async () => {
  // Bootstrap funds an opening balance once: restarted with BTC 10 → 1 in the config, the kernel still holds the 10 BTC
  // the log funded, and accepts a reduce-only sell of 5. The sim counted the config's 1 as the deposit, and refused it
  // (reduce_only_would_increase): every flatten of the account's BTC failed so.
  const dataDir = harness.newDataDir()
  await harness.stop(await harness.start(dataDir))
  const served = await harness.start(dataDir, {}, [{ id: 'demo-1', venue: 'sim', balances: { USD: '1000000', BTC: '1', ETH: '100' } }])
  expect(served.gateway.engine.state.accounts.get('demo-1')?.balances.get('BTC')).toBe(10_00000000n)
  const sell = { ...CROSSING, side: 'sell', price: '59000', reduce_only: true }
  const placed = await served.gateway.place(TRADER, { ...sell, qty: '5' }, 'ro-lowered')
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  const orderId = placed.reply.orderId
  const order = () => served.gateway.engine.state.orders.get(orderId)
  await until(() => order()?.status === 'Filled' || order()?.status === 'Rejected')
  expect({ status: order()?.status, cumQty: order()?.cumQty }).toEqual({ status: 'Filled', cumQty: 5_00000000n })
})
