/**
 * A client's cancel in `/explain` and `/events` says who asked, under which config and which build (§9): its record
 * (order.cancel_requested, payload version 12) carries the principal, the kernel's config digest and the gateway's
 * build, as a place's decision record does. Before, it named the principal only, and no record said which build wrote it.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { documentedAnswers } from './openapi-departures.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

interface StoryEntry { type: string; summary: string; record: Record<string, unknown> }

test("a cancel's story entry and its /events record carry the principal, the config digest and the build", async () => {
  const orderId = (await json(await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'cancel-attributed-1' })))).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
  expect((await t.request(`/v1/orders/${orderId}/cancel`, post(trader, ''))).status).toBe(202)
  const configDigest = t.gateway.engine.state.config?.digest
  expect(configDigest).toBe(t.http.services.configDigest)
  const attribution = { principalId: 'alice', configDigest, buildCommit: 'spec' }

  const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
  const entry = (explain.story as StoryEntry[]).find((story) => story.type === 'order.cancel_requested')
  expect(entry?.record).toEqual({ ...attribution, reason: 'USER_CANCEL', traceparent: expect.any(String) })
  expect(entry?.summary).toBe('cancel requested by alice (USER_CANCEL)')
  // The same as the place's decision record says of its own decision.
  const accepted = (explain.decisions as { outcome: string; config_digest: string; build_commit: string }[])[0]
  expect([accepted?.outcome, accepted?.config_digest, accepted?.build_commit]).toEqual(['accepted', configDigest, 'spec'])
  const { answerSchema, departures } = documentedAnswers(await json(await t.request('/openapi.json')))
  expect(departures(answerSchema('GET', '/v1/orders/{id}/explain', '200'), explain, 'answer')).toEqual([])

  const events = (await json(await t.request(`/v1/orders/${orderId}/events`, { headers: auth(trader) }))).events as Record<string, unknown>[]
  expect(events.find((event) => event.type === 'order.cancel_requested')).toMatchObject(attribution)
})
