/**
 * A resend the kernel allowed (`order.resend_requested`, src/kernel/resend.ts) is a decision about the order, as a
 * refused one is: it shows among `/explain`'s decisions, with who asked, the checks it passed and what it reserves
 * again. Before, it was only in the story (a `send` stage entry), so the decision that sent an order a second time
 * was missing from the list that says why the order did what it did, while its refusal would have been there.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { formatDecimal } from '../../src/domain/decimal.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { documentedAnswers } from './openapi-departures.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway({ config: { kernel: { reconcileGraceMs: 100 } } })
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

type Decision = Record<string, unknown> & { outcome: string }

test('an allowed resend is among the /explain decisions, with who asked and what it reserves again', async () => {
  // The venue drops the place: the send's outcome is unknown, and reconciliation proves the venue never had it.
  t.venue.setFaults({ dropRequestProbability: 1 })
  const orderId = (await json(await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'resend-allowed-1' })))).order_id as string
  await eventually(() => t.venue.inspect().requests.droppedRequests === 1)
  t.venue.setFaults({})
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.notAtVenue === true, 5_000)
  expect(t.gateway.engine.state.orders.get(orderId)?.status).toBe('Failed')

  const principal = { id: 'olga', roles: ['ops' as const], accounts: [], liveAllowed: false }
  const market = t.gateway.market.snapshot('sim', 'BTC-USD')
  const resent = await t.gateway.engine.submit({ kind: 'resend', nowMs: Date.now(), principal, orderId, market })
  expect(resent.decision.reply).toEqual({ kind: 'done' })
  const lsn = resent.lsns[0] as number
  const reserved = resent.decision.events[0]
  if (reserved?.type !== 'order.resend_requested') throw new Error('expected order.resend_requested')

  // The log index keeps it among the order's later decisions, so it stays shown however long the history grows.
  expect(t.http.services.logIndex.decisionPositionsOf(orderId).later).toEqual([lsn])
  const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
  const decisions = explain.decisions as Decision[]
  expect(decisions.map((decision) => decision.outcome)).toEqual(['accepted', 'resend_accepted'])
  const amount = formatDecimal(reserved.reservationAmount)
  // The record is the same whether its build read the instrument's rules at a resend (de1f40f9 on) or not: the detail
  // does not say this one passed them (it said so of a resend recorded before, whose build never read them).
  expect(decisions[1]?.detail).not.toMatch(/instrument's rules[^;(]*passed/)
  expect(decisions[1]).toEqual({
    lsn,
    outcome: 'resend_accepted',
    trace_id: null,
    reason: null,
    reason_description: null,
    failed_guard: null,
    detail: `resend by olga allowed: the trading switch, data health, the account's policy, the price band and the reservation passed again (the instrument's rules too, by a build that reads them at a resend: the record does not say which build); the order goes out again as recorded and reserves ${amount} USD again`,
    principal: 'olga',
    roles: null,
    // The kernel's config digest is recorded (payload version 12); this command named no build, so none is shown.
    config_digest: t.gateway.engine.state.config?.digest,
    build_commit: null,
    decided_at_ms: expect.any(Number),
    guards: [],
  })
  const { answerSchema, departures } = documentedAnswers(await json(await t.request('/openapi.json')))
  expect(departures(answerSchema('GET', '/v1/orders/{id}/explain', '200'), explain, 'answer')).toEqual([])
})
