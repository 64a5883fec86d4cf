/**
 * Account policies from the config (accounts[].policy, defaultPolicy) decide the gateway's answers, end to end: the
 * notional cap, the open-orders bound, the listed instruments, market orders, the validity window and which principal
 * kinds may place — a bot the policy refuses may still cancel. /explain names the configured values it decided with.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { auth, eventually, json, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let bot: string
let auditor: string

beforeAll(async () => {
  t = await startTestGateway({
    config: {
      defaultPolicy: { validUntil: '2020-01-01T00:00:00Z' },
      accounts: [
        {
          id: 'demo-1', balances: { USD: '1000000', BTC: '10', ETH: '100' },
          policy: { instruments: ['sim:BTC-USD', 'sim:ETH-USD'], marketOrderInstruments: ['sim:ETH-USD'], maxOrderNotional: '5000', maxOpenOrders: 1, newOrdersBy: ['trader'], validUntil: 32_503_680_000_000 },
        },
        { id: 'demo-2', balances: { USD: '1000' } },
        { id: 'demo-3', balances: { USD: '1000' }, policy: { validFrom: '2999-01-01T00:00:00Z', validUntil: '3000-01-01T00:00:00Z' } },
      ],
    },
  })
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1', 'demo-2', 'demo-3'] })
  bot = await t.token({ sub: 'robo', roles: ['bot'], accounts: ['demo-1'] })
  auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
})
afterAll(async () => t.stop())

const BTC = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }

async function place(token: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await t.request('/v1/orders', post(token, body))
  return { status: response.status, body: await json(response) }
}

function refusal(answer: { body: Record<string, unknown> }): { code: string; orderId: string } {
  const error = answer.body.error as { code: string; details: { order_id: string } }
  return { code: error.code, orderId: error.details.order_id }
}

/** The policy guard's inputs in the order's first decision, as /explain shows them. */
async function policyInputs(orderId: string): Promise<Record<string, unknown>> {
  const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(auditor) }))
  const decisions = explain.decisions as { guards: { guard: string; inputs: Record<string, unknown> }[] }[]
  const guard = decisions[0]?.guards.find((item) => item.guard === 'policy')
  if (guard === undefined) throw new Error(`no policy guard in ${JSON.stringify(explain)}`)
  return guard.inputs
}

describe('configured account policies at the HTTP API', () => {
  test('the kernel holds the configured policies: demo-1 its own, demo-2 defaultPolicy over the paper defaults', () => {
    const policies = t.gateway.engine.state.policies
    expect(policies.get('demo-1')).toMatchObject({ maxOrderNotional: 500_000_000_000n, maxOpenOrders: 1, newOrdersBy: ['trader'], marketOrderInstruments: ['sim:ETH-USD'] })
    expect(policies.get('demo-2')).toMatchObject({ maxOpenOrders: 1000, validFromMs: 0, validUntilMs: Date.UTC(2020, 0, 1), instruments: ['sim:BTC-USD', 'sim:ETH-USD', 'sim:AAPL'] })
    expect('newOrdersBy' in (policies.get('demo-2') as object)).toBe(false)
  })

  test('an order over the notional cap is 422 ORDER_NOTIONAL_LIMIT, and /explain shows the configured cap', async () => {
    const answer = await place(trader, { ...BTC, qty: '0.1', client_order_id: 'big' })
    expect(answer.status).toBe(422)
    const { code, orderId } = refusal(answer)
    expect(code).toBe('ORDER_NOTIONAL_LIMIT')
    expect(await policyInputs(orderId)).toMatchObject({ notional: '5900', maxOrderNotional: '5000', principalKind: 'trader', newOrdersBy: 'trader' })
  })

  test('an instrument the policy does not list is 403 SYMBOL_NOT_ALLOWED; a market order only where enabled', async () => {
    expect(refusal(await place(trader, { ...BTC, symbol: 'AAPL', qty: '1', price: '200', client_order_id: 'aapl' })).code).toBe('SYMBOL_NOT_ALLOWED')
    expect(refusal(await place(trader, { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'market', qty: '0.01', client_order_id: 'mkt-btc' })).code).toBe('MARKET_ORDERS_DISABLED')
    const eth = await place(trader, { account: 'demo-1', symbol: 'ETH-USD', side: 'buy', type: 'market', qty: '0.01', tif: 'IOC', client_order_id: 'mkt-eth' })
    expect(eth.status).toBe(202)
    await eventually(() => t.gateway.engine.state.orders.get(eth.body.order_id as string)?.status === 'Filled')
  })

  test('a bot is refused new orders (403 PRINCIPAL_KIND_NOT_ALLOWED) but cancels the account\'s order; the open-orders bound holds', async () => {
    const botAnswer = await place(bot, { ...BTC, client_order_id: 'bot-1' })
    expect(botAnswer.status).toBe(403)
    expect(refusal(botAnswer).code).toBe('PRINCIPAL_KIND_NOT_ALLOWED')
    expect(await policyInputs(refusal(botAnswer).orderId)).toMatchObject({ principalId: 'robo', principalKind: 'bot', newOrdersBy: 'trader' })
    const resting = await place(trader, { ...BTC, client_order_id: 'rest-1' })
    expect(resting.status).toBe(202)
    const orderId = resting.body.order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const second = await place(trader, { ...BTC, client_order_id: 'rest-2' })
    expect(second.status).toBe(429)
    expect(await policyInputs(refusal(second).orderId)).toMatchObject({ openOrders: 1, maxOpenOrders: 1 })
    expect((await t.request(`/v1/orders/${orderId}/cancel`, post(bot, ''))).status).toBe(202)
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'Canceled')
  })

  test('outside the validity window every new order is 403 POLICY_EXPIRED, naming the window', async () => {
    const expired = await place(trader, { ...BTC, account: 'demo-2', client_order_id: 'old' })
    expect(refusal(expired).code).toBe('POLICY_EXPIRED')
    expect(await policyInputs(refusal(expired).orderId)).toMatchObject({ validFromMs: 0, validUntilMs: Date.UTC(2020, 0, 1) })
    const early = await place(trader, { ...BTC, account: 'demo-3', client_order_id: 'early' })
    expect(refusal(early).code).toBe('POLICY_EXPIRED')
    expect(await policyInputs(refusal(early).orderId)).toMatchObject({ validFromMs: Date.UTC(2999, 0, 1), validUntilMs: Date.UTC(3000, 0, 1) })
  })
})
