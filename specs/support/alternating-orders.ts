/**
 * The body of the `index`th order of a run that alternates buys and sells of demo-1's BTC-USD (the specs that need a
 * log with accepted orders in it, under serve's defaults). Sells are priced above buys: an order still open when the
 * next is decided — in shadow mode each ends on the executor's next turn, after its 202 (Executor.wakeNextTurn) — is
 * never crossed by it, which self-trade prevention would refuse (SELF_TRADE_PREVENTED).
 */
export function alternatingOrderBody(index: number): Record<string, string> {
  const buy = index % 2 === 0
  return { account: 'demo-1', symbol: 'BTC-USD', side: buy ? 'buy' : 'sell', type: 'limit', qty: '0.001', price: buy ? '60000' : '60050' }
}
