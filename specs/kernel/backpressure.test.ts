import { describe, expect, test } from 'bun:test'
import { reasonInfo } from '../../src/domain/reasons.ts'
import { shedReason } from '../../src/kernel/index.ts'
import { replay, stateDigest } from '../../src/kernel/index.ts'
import { ACCOUNT, config, Harness, policy, trader } from './fixtures.ts'

function boundedHarness(params: Parameters<typeof config>[0] = {}): Harness {
  const harness = Harness.funded({ config: config({ policies: [policy(), policy({ accountId: 'acct-2' })], ...params }) })
  harness.run({ kind: 'fund', nowMs: harness.nowMs, principalId: 'config', accountId: 'acct-2', asset: 'USD', amount: 100_000_00000000n, reference: 'config' })
  return harness
}

describe('backpressure at lane admission', () => {
  test('overload reasons are retryable and answer 429', () => {
    for (const reason of ['OVERLOADED', 'LANE_FULL'] as const) {
      expect(reasonInfo(reason)).toMatchObject({ errorClass: 'retryable', httpStatus: 429 })
    }
  })

  test('an account with accountQueuedMax orders waiting is shed with OVERLOADED while another account is still admitted', () => {
    const harness = boundedHarness({ params: { accountQueuedMax: 2 } })
    harness.placedId({ client_order_id: 'a', qty: '0.01' })
    harness.placedId({ client_order_id: 'b', qty: '0.01' })
    const shed = harness.place({ client_order_id: 'c', qty: '0.01' })
    expect(shed.reply).toMatchObject({ kind: 'rejected', reason: 'OVERLOADED', guard: 'lane' })
    const other = harness.place({ account: 'acct-2', client_order_id: 'c', qty: '0.01' }, { principal: { ...trader, accounts: ['acct-2'] } })
    expect(other.reply.kind).toBe('accepted')
  })

  test('an OVERLOADED rejection is not remembered: the same key is admitted once the account has drained', () => {
    const harness = boundedHarness({ params: { accountQueuedMax: 1 } })
    const first = harness.placedId({ client_order_id: 'a', qty: '0.01' })
    expect(harness.place({ client_order_id: 'b', qty: '0.01' }).reply).toMatchObject({ reason: 'OVERLOADED' })
    harness.send(first)
    expect(harness.state.queuedByAccount.get(ACCOUNT)).toBeUndefined()
    expect(harness.place({ client_order_id: 'b', qty: '0.01' }).reply).toMatchObject({ kind: 'accepted', duplicate: false })
  })

  test('cancels are never shed: with the lane full and the account at its bound a cancel is still accepted', () => {
    const harness = boundedHarness({ params: { accountQueuedMax: 1, lane2DepthMax: 1 } })
    const waiting = harness.placedId({ client_order_id: 'a', qty: '0.01' })
    expect(harness.place({ client_order_id: 'b', qty: '0.01' }).reply).toMatchObject({ reason: 'LANE_FULL' })
    expect(harness.cancel(waiting).reply).toEqual({ kind: 'done' })
    expect(harness.order(waiting).status).toBe('Canceled')
  })

  test('shedReason gives the HTTP layer the same verdict as the lane guard, without deciding anything', () => {
    const harness = boundedHarness({ params: { accountQueuedMax: 1, lane1DepthMax: 5 } })
    const params = harness.state.config!.params
    expect(shedReason(harness.state, { lane: 2, accountId: ACCOUNT, params })).toBeNull()
    harness.placedId({ client_order_id: 'a', qty: '0.01' })
    expect(shedReason(harness.state, { lane: 2, accountId: ACCOUNT, params })).toBe('OVERLOADED')
    expect(shedReason(harness.state, { lane: 2, accountId: 'acct-2', params })).toBeNull()
  })

  test('the per-account count of queued work follows the orders through send, cancel and replay', () => {
    const harness = boundedHarness()
    const a = harness.placedId({ client_order_id: 'a', qty: '0.01' })
    const b = harness.placedId({ client_order_id: 'b', qty: '0.01', side: 'sell', price: '50500', reduce_only: true })
    harness.placedId({ client_order_id: 'c', qty: '0.01' })
    expect(harness.state.queuedByAccount.get(ACCOUNT)).toBe(3)
    harness.send(a)
    harness.cancel(b)
    expect(harness.state.queuedByAccount.get(ACCOUNT)).toBe(1)
    expect(stateDigest(replay(harness.log))).toBe(stateDigest(harness.state))
  })
})
