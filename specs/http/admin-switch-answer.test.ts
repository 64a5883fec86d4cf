/**
 * A kill switch or mode answer states what that request's decision left (the switch or mode at its LSN), not what a
 * request decided after it left: an operator's RESUME must not be answered `halted` because a HALT landed behind it.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { json, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let ops: string
let admin: string

beforeAll(async () => {
  t = await startTestGateway()
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  admin = await t.token({ sub: 'adam', roles: ['admin'], accounts: [] })
})
afterAll(async () => t.stop())

describe('kill switch and mode answers', () => {
  test('each of several concurrent switch requests is answered with the switch its own decision left', async () => {
    const actions = ['halt', 'resume', 'cancel-only', 'halt', 'resume', 'halt'] as const
    const answers = await Promise.all(actions.map((action) => t.request(`/v1/admin/${action}`, post(ops, {}))))
    const expected = { halt: 'halted', resume: 'normal', 'cancel-only': 'cancel_only' } as const
    const bodies = await Promise.all(answers.map((answer) => json(answer)))
    expect(bodies.map((body) => body.trading_switch)).toEqual(actions.map((action) => expected[action]))
    await t.request('/v1/admin/resume', post(ops, {}))
  })

  test('each of several concurrent mode changes is answered with the mode it set', async () => {
    const modes = ['shadow', 'paper', 'shadow', 'paper'] as const
    const bodies = await Promise.all(modes.map(async (mode) => json(await t.request('/v1/admin/mode', post(admin, { mode })))))
    expect(bodies.map((body) => body.mode)).toEqual([...modes])
    await t.request('/v1/admin/mode', post(admin, { mode: 'paper' }))
  })
})
