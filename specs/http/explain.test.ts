import { afterAll, beforeAll, expect, test } from 'bun:test'
import { reasonInfo, type ReasonCode } from '../../src/domain/reasons.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let auditor: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
})
afterAll(async () => t.stop())

interface StoryEntry { lsn: number; at_ms: number; stage: string; type: string; summary: string; reason_description: string | null; record: Record<string, unknown> }

test('explain tells the story of every logged record of the order, in log order, and keeps its decisions', async () => {
  const orderId = (await json(await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'story-1' })))).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
  expect((await t.request(`/v1/orders/${orderId}/cancel`, post(trader, ''))).status).toBe(202)
  // The story is read twice below; wait until the cancel call has returned so nothing is appended in between.
  const cancelReturned = (): boolean =>
    t.http.services.logIndex.events(orderId).some(({ event }) => event.type === 'order.call_completed' && event.action === 'cancel')
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'Canceled' && cancelReturned())

  const events = (await json(await t.request(`/v1/orders/${orderId}/events`, { headers: auth(trader) }))).events as { lsn: number; type: string; atMs: number }[]
  const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(auditor) }))
  const story = explain.story as StoryEntry[]
  // Additive: the fields explain always had are still there.
  expect(explain.order_id).toBe(orderId)
  expect(explain.account).toBe('demo-1')
  expect((explain.decisions as { lsn: number; outcome: string }[]).map((decision) => decision.outcome)).toEqual(['accepted'])
  // One entry per record, the same LSNs, types and times as /events, ascending.
  expect(story.map((entry) => [entry.lsn, entry.type, entry.at_ms])).toEqual(events.map((event) => [event.lsn, event.type, event.atMs]))
  for (let index = 1; index < story.length; index++) expect(story[index]!.lsn).toBeGreaterThan(story[index - 1]!.lsn)
  // The intent carries the decision record, the reservation and the lane; sends carry their gate verdicts.
  const intent = story[0]!
  expect(intent).toMatchObject({ stage: 'intent', type: 'order.accepted' })
  expect(intent.record).toMatchObject({ lane: expect.any(Number), reservationAsset: 'USD', reservationAmount: expect.any(String) })
  expect(intent.record.decision).toMatchObject({ principalId: 'alice', configDigest: t.http.services.configDigest, buildCommit: 'spec' })
  for (const send of story.filter((entry) => entry.stage === 'send')) expect(send.record.gate).toMatchObject({ sendAllowed: true })
  expect(story.map((entry) => entry.stage)).toEqual(expect.arrayContaining(['intent', 'send', 'venue', 'report', 'cancel']))
  expect(story.map((entry) => entry.type)).toContain('order.canceled')
  for (const entry of story) expect(entry.summary.length).toBeGreaterThan(0)
  // A reason code in a record comes with its meaning (before: the code alone, e.g. "cancel requested by alice (USER_CANCEL)").
  const cancel = story.find((entry) => entry.type === 'order.cancel_requested')
  expect(cancel?.reason_description).toBe(reasonInfo('USER_CANCEL').description)
  for (const entry of story) {
    const reason = entry.record.reason
    expect([entry.type, entry.reason_description]).toEqual([entry.type, typeof reason === 'string' ? reasonInfo(reason as ReasonCode).description : null])
  }
})
