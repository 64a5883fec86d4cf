/**
 * A batch of marketable orders for the benchmarks that build a log through a simulated gateway (bench-restart,
 * bench-encode, bench-payload-format, bench-replay-verify): both accounts, all three sim symbols, run until the
 * executor has sent and filled every one. A batch's buys and sells of one account and symbol are in flight together
 * and cross: the world must allow self-trades (startWorld's `configure: allowSelfTrade`); a batch that meets a
 * SELF_TRADE_PREVENTED refusal throws.
 */

import { formatDecimal } from '../../src/domain/decimal.ts'
import { traderA, traderB, type World } from '../../specs/runtime/harness.ts'
import { SelfTradeRefusals } from './self-trade-allowed.ts'

export interface TradeBatchOptions {
  /** Client order ids are `${prefix}${n}`, n counting from `offset`. */
  clientOrderIdPrefix: string
  /** The orders' time in force; omitted, the order body leaves it to the default. */
  tif?: string
}

/** Places `size` orders numbered from `offset` and waits until none is queued or in flight; resolves with `size`. */
export async function tradeBatch(world: World, offset: number, size: number, options: TradeBatchOptions): Promise<number> {
  const symbols = ['BTC-USD', 'ETH-USD', 'AAPL']
  const quantities: Record<string, string> = { 'BTC-USD': '0.001', 'ETH-USD': '0.01', AAPL: '1' }
  const placing: Promise<unknown>[] = []
  const refusals = new SelfTradeRefusals()
  for (let index = 0; index < size; index++) {
    const n = offset + index
    const symbol = symbols[n % symbols.length] as string
    const reference = world.venue.referencePrice(symbol)
    if (reference === null) throw new Error(`no price for ${symbol}`)
    // Each account×symbol pair (n mod 6) alternates buy then sell of the same quantity, so positions net to zero and
    // nothing runs out; priced 1% through the reference so every order fills at once.
    const side = Math.floor(n / 6) % 2 === 0 ? 'buy' : 'sell'
    const price = formatDecimal(((reference.price * (side === 'buy' ? 101n : 99n)) / 100n / 1_000_000n) * 1_000_000n)
    const principal = n % 2 === 0 ? traderA : traderB
    const account = principal === traderA ? 'acct-a' : 'acct-b'
    const body = { account, symbol, side, type: 'limit', ...(options.tif === undefined ? {} : { tif: options.tif }), qty: quantities[symbol], price, client_order_id: `${options.clientOrderIdPrefix}${n}` }
    placing.push(world.gateway.place(principal, body, null).then((result) => refusals.note(result)))
  }
  await Promise.all(placing)
  refusals.assertNone('tradeBatch')
  const state = world.gateway.engine.state
  for (let step = 0; step < 100_000; step++) {
    if (state.queues.every((queue) => queue.size === 0) && state.inFlight.size === 0) break
    await world.clock.advanceAsync(1)
  }
  await world.gateway.engine.settled()
  return size
}
