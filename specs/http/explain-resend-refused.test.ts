/**
 * A refused resend shows in the order's `/events`, in its `/explain` story and among its `/explain` decisions, with its
 * reason code and why: the kernel records it (`order.resend_refused`, src/kernel/resend.ts). Before, a refusal was only
 * in the reply to the command (a start's resend: read by no one), so neither endpoint could say a resend was tried and
 * why it did not go; then it was in the story but not among the decisions.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { reasonInfo } from '../../src/domain/reasons.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { documentedAnswers } from './openapi-departures.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

interface StoryEntry { lsn: number; at_ms: number; stage: string; type: string; summary: string; reason_description: string | null; venue_reject_code: string | null; record: Record<string, unknown> }

test('a resend refused because the order is not resendable is in /events, in the /explain story and among its decisions, with its reason', async () => {
  const orderId = (await json(await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'resend-refused-1' })))).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
  const principal = { id: 'olga', roles: ['ops' as const], accounts: [], liveAllowed: false }
  const market = t.gateway.market.snapshot('sim', 'BTC-USD')
  const refused = await t.gateway.engine.submit({ kind: 'resend', nowMs: Date.now(), principal, orderId, market, buildCommit: 'abc1234' })
  // The config the kernel decided it under (the running one here), and the build the command named (payload version 12).
  const configDigest = t.gateway.engine.state.config?.digest as string
  expect(refused.decision.reply).toEqual({ kind: 'refused', reason: 'ORDER_NOT_RESENDABLE', detail: 'order is AckedOpen' })
  expect(refused.lsns.length).toBe(1)
  const lsn = refused.lsns[0] as number

  const events = (await json(await t.request(`/v1/orders/${orderId}/events`, { headers: auth(trader) }))).events as Record<string, unknown>[]
  expect(events.find((event) => event.lsn === lsn)).toEqual({
    lsn, type: 'order.resend_refused', atMs: expect.any(Number), orderId, principalId: 'olga', reason: 'ORDER_NOT_RESENDABLE', detail: 'order is AckedOpen',
    configDigest, buildCommit: 'abc1234',
  })
  const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
  const story = explain.story as StoryEntry[]
  expect(story.find((entry) => entry.lsn === lsn)).toEqual({
    lsn,
    at_ms: expect.any(Number),
    stage: 'send',
    type: 'order.resend_refused',
    summary: 'resend by olga refused ORDER_NOT_RESENDABLE: order is AckedOpen',
    reason_description: reasonInfo('ORDER_NOT_RESENDABLE').description,
    venue_reject_code: null,
    record: { principalId: 'olga', reason: 'ORDER_NOT_RESENDABLE', detail: 'order is AckedOpen', configDigest, buildCommit: 'abc1234' },
  })
  // And among the decisions, with what its record carries: its config digest and build (payload version 12); no roles
  // or guards are recorded for it, so they are null (empty) (before: the refusal was not among the decisions).
  expect(explain.decisions).toEqual([
    expect.objectContaining({ outcome: 'accepted', reason: null, detail: null, config_digest: t.http.services.configDigest }),
    {
      lsn,
      outcome: 'resend_refused',
      trace_id: null,
      reason: 'ORDER_NOT_RESENDABLE',
      reason_description: reasonInfo('ORDER_NOT_RESENDABLE').description,
      failed_guard: null,
      detail: 'order is AckedOpen',
      principal: 'olga',
      roles: null,
      config_digest: configDigest,
      build_commit: 'abc1234',
      decided_at_ms: expect.any(Number),
      guards: [],
    },
  ])
  const { answerSchema, departures } = documentedAnswers(await json(await t.request('/openapi.json')))
  expect(departures(answerSchema('GET', '/v1/orders/{id}/explain', '200'), explain, 'answer')).toEqual([])
  // It changed nothing: the order rests at the venue as it did.
  expect(t.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
})
