import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { formatDecimal, parseDecimal } from '../../src/domain/decimal.ts'
import { auth, eventually, json, post, startTestGateway, type TestGateway } from '../http/fixture.ts'

// The HTTP figures against figures computed here from the fills the API lists: a long, a sale past zero (a flip to
// short), a cover; the ledger through /v1/ledger sums to zero per asset; PnL and positions agree with the fills.

let gw: TestGateway
let trader: string
let auditor: string

beforeAll(async () => {
  gw = await startTestGateway()
  trader = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  auditor = await gw.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  const orders = [
    { side: 'buy', qty: '0.3', price: '61000' },
    { side: 'sell', qty: '0.5', price: '59000' },
    { side: 'buy', qty: '0.05', price: '61000' },
  ]
  for (const [index, order] of orders.entries()) {
    const response = await gw.request('/v1/orders', post(trader, { account: 'demo-1', symbol: 'BTC-USD', type: 'limit', ...order }, { 'Idempotency-Key': `fig-${index}` }))
    expect(response.status).toBe(202)
    await eventually(() => backOfficeOf(gw.gateway).projector.ledger.counters.fills >= index + 1)
  }
})

afterAll(async () => {
  await gw.stop()
})

async function get(path: string, token = auditor): Promise<Record<string, unknown>> {
  return json(await gw.request(path, { headers: auth(token) }))
}

const units = (text: unknown): bigint => parseDecimal(text as string)

describe('back office figures over HTTP', () => {
  test('position and PnL after a long, a flip to short and a partial cover match the fills', async () => {
    const fills = (await get('/v1/fills?account=demo-1&limit=1000')).fills as Record<string, string>[]
    expect(fills.length).toBe(3)
    // Average cost by hand: the sell closes 0.3 at the long's cost and opens 0.2 short at its own price.
    const [buy, sell, cover] = fills.map((fill) => ({ qty: units(fill.qty), price: units(fill.price), fee: units(fill.fee), cash: units(fill.cash), side: fill.side }))
    if (buy === undefined || sell === undefined || cover === undefined) throw new Error('three fills')
    expect([buy.side, sell.side, cover.side]).toEqual(['buy', 'sell', 'buy'])
    const closeShare = (sell.cash * buy.qty) / sell.qty
    let realized = closeShare - -buy.cash
    let basis = -(sell.cash - closeShare) // short: negative basis (cash received)
    const open = sell.qty - buy.qty
    const basisClosed = (basis * cover.qty) / open
    realized += cover.cash - basisClosed
    basis -= basisClosed
    const net = buy.qty - sell.qty + cover.qty
    // The mark price moves with the sim's prices between two requests: positions are read before and after /v1/pnl
    // until both reads carry the same mark, so the PnL compared below was marked at it too.
    const positionRow = async (): Promise<Record<string, unknown> | undefined> => ((await get('/v1/positions?account=demo-1', trader)).positions as Record<string, unknown>[]).find((row) => row.symbol === 'BTC-USD')
    let position: Record<string, unknown> | undefined
    let pnl: Record<string, unknown> | undefined
    for (let attempt = 0; position === undefined; attempt++) {
      if (attempt === 50) throw new Error('the mark price moved between every pair of reads')
      const before = await positionRow()
      pnl = ((await get('/v1/pnl?account=demo-1', trader)).pnl as Record<string, unknown>[]).find((row) => row.asset === 'USD')
      const after = await positionRow()
      if (before?.mark_price === after?.mark_price) position = after
    }
    expect(position?.net_qty).toBe(formatDecimal(net))
    expect(position?.cost_basis).toBe(formatDecimal(basis))
    expect(position?.realized_pnl).toBe(formatDecimal(realized))
    expect(position?.fees).toEqual({ USD: formatDecimal(buy.fee + sell.fee + cover.fee) })
    const mark = units(position?.mark_price)
    const unrealized = (net * mark) / 100_000_000n - basis
    expect(position?.unrealized_pnl).toBe(formatDecimal(unrealized))
    const fees = buy.fee + sell.fee + cover.fee
    expect(pnl).toMatchObject({ realized_pnl: formatDecimal(realized), unrealized_pnl: formatDecimal(unrealized), fees: formatDecimal(fees), net_pnl: formatDecimal(realized + unrealized - fees) })
  })

  test('the ledger over HTTP sums to zero per asset, and the account book is the balance', async () => {
    const postings = (await get('/v1/ledger?limit=1000')).postings as Record<string, unknown>[]
    const sums = new Map<string, bigint>()
    const account = new Map<string, bigint>()
    for (const row of postings) {
      sums.set(row.asset as string, (sums.get(row.asset as string) ?? 0n) + units(row.amount))
      if (row.book === 'acct:demo-1') account.set(row.asset as string, (account.get(row.asset as string) ?? 0n) + units(row.amount))
    }
    for (const [asset, sum] of sums) expect(`${asset} ${sum}`).toBe(`${asset} 0`)
    const balances = (await get('/v1/balances?account=demo-1', trader)).balances as Record<string, string>[]
    for (const row of balances) expect(`${row.asset} ${row.total}`).toBe(`${row.asset} ${formatDecimal(account.get(String(row.asset)) ?? 0n)}`)
  })
})
